# Turns the output of `mvn -B package` into a few lines a person can follow while the ./ditcache launcher builds:
# one line per module ("[4/6] ditcache-core: compile jar"), a count of the files Maven downloads (a fresh
# machine fetches a few hundred MB into ~/.m2 first) and every error. POSIX awk, no gawk extensions.
function endline() {
    if (open) {
        printf "\n"
        open = 0
    }
}
# "[INFO] Building ditcache-core 0.1.0-SNAPSHOT   [4/6]", not "[INFO] Building jar: /path/to.jar"
/^\[INFO\] Building [^ ]+ [^ ]+( +\[[0-9]+\/[0-9]+\])? *$/ && $3 !~ /:$/ {
    endline()
    name = $3
    step = $NF ~ /^\[[0-9]+\/[0-9]+\]$/ ? $NF " " : ""
    module = "ditcache:   " step name ":"
    printf "%s", module
    open = 1
    last = ""
    fflush()
    next
}
/^\[INFO\] --- / {
    # "[INFO] --- maven-compiler-plugin:3.13.0:compile (default-compile) @ ditcache-core ---"
    n = split($3, part, ":")
    goal = part[n]
    if (module != "" && goal != last) {
        if (!open) {
            # downloads or errors came between: the module's line again
            printf "%s", module
            open = 1
        }
        printf " %s", goal
        fflush()
    }
    last = goal
    next
}
/Downloaded from / {
    downloaded++
    if (downloaded % 50 == 1) {
        endline()
        printf "ditcache:   downloading dependencies into ~/.m2 (%d files so far) ...\n", downloaded
        fflush()
    }
    next
}
/^\[ERROR\]/ || /BUILD FAILURE/ {
    endline()
    print
    fflush()
    next
}
END {
    endline()
    if (downloaded > 0) {
        printf "ditcache:   downloaded %d files\n", downloaded
    }
}
