use crate::yaml::parse;

#[test]
fn a_key_one_space_off_names_its_line_and_the_columns() {
    let text = "spec:\n  owner: team-payments\n   tier: 1\n";
    let e = parse(text).unwrap_err();
    assert!(
        e.message.contains("check the indentation of line 3: it starts at column 4, line 2 above it at column 3"),
        "{e:?}"
    );
}

#[test]
fn a_tab_in_the_indentation_is_named() {
    let text = "metadata:\n\tname: payments\n";
    let e = parse(text).unwrap_err();
    assert!(e.message.contains("check the indentation of line 2: it holds a tab"), "{e:?}");
}

#[test]
fn an_error_that_is_not_about_layout_gets_no_hint() {
    let e = parse("tiers: [a\n").unwrap_err();
    assert!(!e.message.contains("indentation"), "{e:?}");
}
