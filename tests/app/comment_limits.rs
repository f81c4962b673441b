//! Hostile comments (issue 12): one comment cannot fan out into thousands of reactions, replies or catalog pull
//! requests, nor spend the write budget other pull requests need.

use crate::commands::{Setup, comment_payload};
use crate::e2e::{OWNER, REPO, readme};
use std::time::{Duration, Instant};

/// A comment of 20,000 `/request-exception` lines (GitHub would cut it at 65,536 characters; a forged or replayed
/// payload need not) gets one reaction and one reply, and a pull request opened meanwhile is checked at once,
/// although the write budget is small enough that a reply per line would have spent it many times over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_of_twenty_thousand_commands_gets_one_reply_and_leaves_the_write_budget_alone() {
    let s = Setup::with_vars(2, vec![("SHIPSHAPE_WRITE_LIMIT", "40/1m".to_string())]).await;
    let rules = ["runbook", "security-policy", "slo", "readme"];
    let body: String = (0..20_000)
        .map(|i| format!("/request-exception {} for {}d reason {i}\n", rules[i % rules.len()], i % 60 + 1))
        .collect();
    let id = s.fake().add_user_comment(OWNER, REPO, 7, "alice", &body);
    let before = s.world.writes();
    assert_eq!(
        s.world.send("issue_comment", &s.world.next_delivery(), &comment_payload(7, id, "alice", &body, true)).await,
        202
    );

    // Meanwhile, an unrelated pull request.
    let text = readme();
    let head = s.fake().commit(OWNER, REPO, &[("README.md", text.as_str()), ("docs/other.md", "other\n")]);
    let started = Instant::now();
    let opened = s.world.pull_request("opened", 8, &head, &s.base);
    assert_eq!(s.world.send("pull_request", &s.world.next_delivery(), &opened).await, 202);
    loop {
        let runs = s.fake().check_runs(OWNER, REPO);
        if runs.iter().any(|r| r["head_sha"] == head.as_str() && r["status"] == "completed") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the unrelated check run waited: {runs:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.world.settle().await;

    let replies = s.replies(7);
    assert_eq!(replies.len(), 1, "{} replies", replies.len());
    let reply = &replies[0];
    assert_eq!(s.fake().comment_reactions(OWNER, REPO, id), vec!["eyes".to_string()]);
    let pulls = s.catalog_pulls();
    assert!(!pulls.is_empty() && pulls.len() <= 10, "{pulls:#?}");
    // The lines read (those within the first 65,536 characters) past the tenth are named as ignored.
    assert!(reply.contains("At most 10 command lines of a comment are acted on"), "{reply}");
    assert!(reply.contains("`/request-exception` (line 11), `/request-exception` (line 12)"), "{reply}");
    assert!(reply.contains("longer than 65536 characters"), "{reply}");
    assert!(reply.chars().count() < 65_536, "the reply fits in a comment");
    assert!(reply.contains("#### Line 10: `/request-exception`") && !reply.contains("#### Line 11"), "{reply}");
    let writes = s.world.writes() - before;
    assert!(writes <= 40, "{writes} writes for one comment and one pull request");

    // Redelivered: nothing more.
    s.deliver("issue_comment", &comment_payload(7, id, "alice", &body, true)).await;
    assert_eq!(s.replies(7).len(), 1);
    assert_eq!(s.world.writes() - before, writes);
    s.fake().assert_clean();
}

/// A read-only user's 300 malformed command lines: one short refusal, no usage help, no reaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_users_malformed_lines_get_one_refusal() {
    let mut s = Setup::new(2).await;
    let body: String = (0..300).map(|i| format!("/request-exception runbook for {i} days\n/rechek\n")).collect();
    let before = s.world.writes();
    let (id, _) = s.comment(7, "rita", &body).await;
    let replies = s.replies(7);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let reply = &replies[0];
    assert!(reply.contains("`/request-exception` needs write, maintain or admin permission"), "{reply}");
    assert!(reply.contains("`rita` has read permission here, so nothing in this comment was done"), "{reply}");
    assert!(!reply.contains("Usage") && !reply.contains("Did you mean") && !reply.contains("line 1"), "{reply}");
    assert!(s.fake().comment_reactions(OWNER, REPO, id).is_empty());
    assert_eq!(s.world.writes() - before, 1, "the refusal is the only write");
    assert!(s.catalog_pulls().is_empty());
    s.fake().assert_clean();
}

/// Ten lines acted on, in order, in one reply with a section each; a repeated command done once; the rest named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_reply_answers_every_command_of_a_comment_in_order() {
    let mut s = Setup::new(2).await;
    let body = "Some context first.\n\
                /recheck\n\
                /rechek\n\
                /request-exception runbook for 14d wiki move\n\
                /recheck\n\
                /readiness\n\
                /request-exception runbook for 14d wiki move\n\
                /change-tier 1 customer facing now\n\
                /request-exception slo for 5 days\n\
                /request-exception nope for 10d typo\n\
                /readiness\n\
                /change-tier 3 second thoughts\n\
                /rechek\n";
    let (id, payload) = s.comment(7, "maya", body).await;
    let replies = s.replies(7);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let reply = &replies[0];
    let headings: Vec<&str> = reply.lines().filter(|l| l.starts_with("#### ")).collect();
    assert_eq!(
        headings,
        [
            "#### Line 2: `/recheck`",
            "#### Line 3",
            "#### Line 4: `/request-exception`",
            "#### Line 5: `/recheck`",
            "#### Line 6: `/readiness`",
            "#### Line 7: `/request-exception`",
            "#### Line 8: `/change-tier`",
            "#### Line 9: `/request-exception`",
            "#### Line 10: `/request-exception`",
            "#### Line 11: `/readiness`",
        ],
        "{reply}"
    );
    for expected in [
        "Re-checked",
        "Did you mean `/recheck`?",
        "Same as line 2: done once",
        "Same as line 4: done once",
        "Same as line 6: done once",
        "Tier 1 applies once",
        "(line 9, column 28)",
        "no rule `nope`",
        "2 more were ignored: `/change-tier` (line 12), a misspelt command (line 13).",
    ] {
        assert!(reply.contains(expected), "{expected}\n{reply}");
    }
    assert_eq!(s.fake().comment_reactions(OWNER, REPO, id), vec!["eyes".to_string()]);
    assert_eq!(s.catalog_pulls().len(), 2, "the exception and the first tier change");
    // Redelivered: no second reply, no second pull request, no second reaction.
    let writes = s.world.writes();
    s.deliver("issue_comment", &payload).await;
    assert_eq!((s.replies(7).len(), s.catalog_pulls().len(), s.world.writes()), (1, 2, writes));
    s.fake().assert_clean();
}
