#!/usr/bin/env python3
"""Score the labelled corpus: compare shipshape's verdicts with hand-made labels.

For every `[[repo]]` in labels.toml this script finds the fetched snapshot (a bare git directory
`<mirrors>/<owner>+<name>/repo`), makes a temporary checkout of the labelled commit, writes a temporary catalog
with one Backstage Component per repository, runs

    shipshape evaluate --catalog CATALOG --service NAME --format json CHECKOUT

and compares each rule's status with the label. It prints the disagreements per repository and the agreement
table per rule (Markdown). It is a measurement, not a test: it exits 0 whatever the agreement, and non-zero only
when it cannot run at all (no labels, no binary).

Python 3.11+, standard library only. Run by hand (CI cannot fetch the snapshots); see README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent

# Rules that need GitHub, PagerDuty or Prometheus; labelled `offline`, expected `skipped`.
OFFLINE_RULES = {"branch-protection", "ci-passing", "slo-recorded", "oncall", "vulnerabilities"}

OUTCOMES = ("agree", "false pass", "false fail", "unverified")

# Environment variables that would link a tool (and make the offline rules ask the network).
LINKING_ENV = re.compile(r"^(GITHUB_|GH_|SHIPSHAPE_|PAGERDUTY|PROMETHEUS)")


def service_name(slug: str) -> str:
    """A catalog name for a repository slug: `owner-name`, lower case, [a-z0-9-] only."""
    name = re.sub(r"[^a-z0-9-]+", "-", slug.lower().replace("/", "-")).strip("-")
    return name[:63].rstrip("-")


def git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True)


def make_checkout(bare: Path, commit: str, dest: Path) -> list[str]:
    """Clone `bare` into `dest` and check out `commit`. Returns the paths whose blobs the snapshot lacks.

    Snapshots may list their largest files without holding them; git then leaves them out of the working
    tree. They are written as empty files so that rules about a file's existence still see them (rules about
    their content cannot)."""
    git("clone", "--quiet", "--no-checkout", str(bare), str(dest))
    git("-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit, cwd=dest, check=False)
    head = git("rev-parse", "HEAD", cwd=dest).stdout.strip()
    if head != commit:
        raise RuntimeError(f"checkout of {commit} left HEAD at {head}")
    missing = []
    deleted = git("ls-files", "--deleted", "-z", cwd=dest).stdout.split("\0")
    for path in filter(None, deleted):
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
        missing.append(path)
    return missing


def write_catalog(catalog: Path, repos: list[dict]) -> None:
    services = catalog / "services"
    services.mkdir(parents=True)
    for repo in repos:
        name = service_name(repo["slug"])
        (services / f"{name}.yaml").write_text(
            "apiVersion: backstage.io/v1alpha1\n"
            "kind: Component\n"
            "metadata:\n"
            f"  name: {name}\n"
            "  annotations:\n"
            f"    github.com/project-slug: {repo['slug']}\n"
            "spec:\n"
            "  type: service\n"
            f"  owner: team-{name}\n"
            "  lifecycle: production\n"
            "  tier: 1\n"
        )


def run_shipshape(binary: Path, catalog: Path, name: str, checkout: Path) -> tuple[dict | None, str]:
    env = {k: v for k, v in os.environ.items() if not LINKING_ENV.match(k)}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [str(binary), "evaluate", "--catalog", str(catalog), "--service", name, "--format", "json", str(checkout)],
        capture_output=True, text=True, env=env, timeout=900,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return None, f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[:2000]}"
    if isinstance(report, list):
        report = report[0] if report else None
    return report, proc.stderr.strip()


def classify(label: str, status: str | None) -> str:
    if label == "offline" or status in (None, "skipped", "error"):
        return "unverified"
    ok = status == "pass"
    if label == "pass":
        return "agree" if ok else "false fail"
    return "false pass" if ok else "agree"


def one_line(text: str | None, limit: int = 300) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", type=Path, default=HERE / "labels.toml")
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"),
                    help="directory of fetched snapshots, <owner>+<name>/repo (default /work/.mirror)")
    ap.add_argument("--shipshape", type=Path, default=REPO_ROOT / "target" / "debug" / "shipshape",
                    help="the binary to measure (default target/debug/shipshape)")
    ap.add_argument("--only", action="append", default=[], metavar="SLUG", help="score only these repositories")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of Markdown")
    ap.add_argument("--keep", action="store_true", help="keep the temporary checkouts and catalog")
    args = ap.parse_args()

    if not args.shipshape.is_file():
        print(f"score.py: no shipshape binary at {args.shipshape} (cargo build, or --shipshape PATH)", file=sys.stderr)
        return 2
    labels = tomllib.loads(args.labels.read_text())
    repos = labels.get("repo", [])
    if args.only:
        repos = [r for r in repos if r["slug"] in args.only]
    if not repos:
        print("score.py: no repositories to score", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="shipshape-corpus-"))
    catalog = work / "catalog"
    write_catalog(catalog, repos)

    results = []
    table = {}
    skipped_repos = []
    try:
        for repo in repos:
            slug, commit = repo["slug"], repo["commit"]
            bare = args.mirrors / slug.replace("/", "+") / "repo"
            entry = {"slug": slug, "commit": commit, "language": repo.get("language"), "kind": repo.get("kind"),
                     "rules": [], "notes": []}
            if not bare.is_dir():
                skipped_repos.append((slug, f"no snapshot at {bare} (fetch github:{slug})"))
                continue
            if git("cat-file", "-e", f"{commit}^{{commit}}", cwd=bare, check=False).returncode != 0:
                skipped_repos.append((slug, f"the snapshot at {bare} lacks commit {commit} (a newer fetch?)"))
                continue
            checkout = work / "checkouts" / service_name(slug)
            checkout.parent.mkdir(parents=True, exist_ok=True)
            try:
                missing = make_checkout(bare, commit, checkout)
            except (subprocess.CalledProcessError, RuntimeError) as err:
                skipped_repos.append((slug, f"checkout failed: {one_line(getattr(err, 'stderr', None) or str(err))}"))
                continue
            if missing:
                entry["notes"].append(f"{len(missing)} file(s) absent from the snapshot, written empty: "
                                      + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))
            report, stderr = run_shipshape(args.shipshape, catalog, service_name(slug), checkout)
            if report is None:
                entry["notes"].append(f"shipshape gave no report: {stderr}")
            statuses = {r["id"]: r for r in (report or {}).get("rules", [])}
            rule_labels = repo.get("rules", {})
            for rule_id in list(rule_labels) + [r for r in statuses if r not in rule_labels]:
                label = rule_labels.get(rule_id)
                got = statuses.get(rule_id)
                status = got.get("status") if got else None
                message = one_line(got.get("message")) if got else "(rule not in shipshape's report)"
                if label is None:
                    entry["notes"].append(f"rule `{rule_id}` has no label (shipshape: {status})")
                    continue
                verdict = label["verdict"]
                outcome = classify(verdict, status)
                table.setdefault(rule_id, dict.fromkeys(OUTCOMES, 0))[outcome] += 1
                entry["rules"].append({"id": rule_id, "label": verdict, "why": label.get("why", ""),
                                       "status": status, "message": message, "outcome": outcome})
            results.append(entry)
            if not args.keep:
                shutil.rmtree(checkout, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    rule_order = [r for r in repos[0].get("rules", {})] if repos else []
    rule_order += sorted(r for r in table if r not in rule_order)
    totals = dict.fromkeys(OUTCOMES, 0)
    for counts in table.values():
        for k in OUTCOMES:
            totals[k] += counts[k]

    if args.json:
        json.dump({"repositories": results, "skipped": [{"slug": s, "reason": r} for s, r in skipped_repos],
                   "table": {r: table[r] for r in rule_order if r in table}, "totals": totals}, sys.stdout, indent=2)
        print()
        return 0

    print(f"# Corpus: {len(results)} repositories scored with {args.shipshape}\n")
    for slug, reason in skipped_repos:
        print(f"- **not scored** `{slug}`: {reason}")
    if skipped_repos:
        print()
    for entry in results:
        wrong = [r for r in entry["rules"] if r["outcome"] in ("false pass", "false fail")]
        odd = [r for r in entry["rules"] if r["outcome"] == "unverified" and r["label"] != "offline"]
        odd += [r for r in entry["rules"] if r["label"] == "offline" and r["status"] not in ("skipped", None)]
        print(f"## {entry['slug']} @ {entry['commit'][:12]} ({entry['language']}, {entry['kind']})\n")
        for note in entry["notes"]:
            print(f"- note: {note}")
        if not wrong and not odd:
            print("- no disagreement")
        for r in wrong:
            print(f"- **{r['outcome']}** `{r['id']}`: label {r['label']} ({one_line(r['why'], 200)}); "
                  f"shipshape {r['status']}: {r['message']}")
        for r in odd:
            print(f"- unverified `{r['id']}`: label {r['label']}; shipshape {r['status']}: {r['message']}")
        print()

    print("## Agreement per rule\n")
    print("| rule | agree | false pass | false fail | unverified |")
    print("|---|---:|---:|---:|---:|")
    for rule_id in rule_order:
        if rule_id in table:
            c = table[rule_id]
            print(f"| {rule_id} | {c['agree']} | {c['false pass']} | {c['false fail']} | {c['unverified']} |")
    print(f"| **total** | {totals['agree']} | {totals['false pass']} | {totals['false fail']} | "
          f"{totals['unverified']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
