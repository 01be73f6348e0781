# `make help`: prints each target documented by a `## target: description`
# line placed directly above its rule, in the Makefiles given as arguments.
# A description that is not directly above its rule is an error, so the
# list cannot drift from the rules.
FNR == 1 { pending = "" }
pending != "" {
    name = pending
    sub(/^## /, "", name)
    args_and_text = name
    sub(/[ :].*/, "", name)
    if (index($0, name ":") != 1) {
        printf "%s:%d: \"## %s\" is not directly above the rule for %s\n", FILENAME, FNR - 1, name, name > "/dev/stderr"
        bad = 1
    } else {
        split_at = index(args_and_text, ": ")
        printf "  %-30s %s\n", substr(args_and_text, 1, split_at - 1), substr(args_and_text, split_at + 2)
    }
    pending = ""
}
/^## [A-Za-z0-9_.-]+( [^:]*)?: / { pending = $0 }
END { exit bad }
