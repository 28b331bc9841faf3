# Shared by the benches that run bench/api.sh several times, one variant after another, round by round
# (bench/sync-modes.sh, bench/tls-cost.sh): one line per run, then one table of medians per variant. Sourced.

# api_round_line <tag> <round> <variant> <log>: the run's post figures from its report, as one summary line.
api_round_line() {
  # The report's post line: "post  <count>  <ops/s>  <p50>  <p99>"; errors on their own line.
  awk -v tag="$1" -v round="$2" -v variant="$3" '
    $1 == "post" { posts = $3; p50 = $4; p99 = $5 }
    $1 == "errors:" { errors = $2 }
    END { printf "[%s] round %s, %s: %s posts/s, post p50 %s ms, p99 %s ms, errors %s\n", tag, round, variant, posts, p50, p99, errors }
  ' "$4"
}

# api_rounds_table <summary file> <first column's title> <variant>...: medians per variant, each run's figures beside them.
api_rounds_table() {
  local summary=$1 title=$2 variant
  shift 2
  echo "| $title | runs | posts/s (median; each run) | post p50 ms (median) | post p99 ms (median; each run) | errors |"
  echo "|---|---|---|---|---|---|"
  for variant in "$@"; do
    grep ", $variant: " "$summary" | awk -v variant="$variant" '
      function median(a, n,   i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      }
      { n++; posts[n] = $5 + 0; each = each (n > 1 ? ", " : "") $5; p50[n] = $9 + 0; p99[n] = $12 + 0; p99each = p99each (n > 1 ? ", " : "") $12; errors += $15 }
      END { printf "| %s | %d | %s (%s) | %.1f | %.1f (%s) | %d |\n", variant, n, median(posts, n), each, median(p50, n), median(p99, n), p99each, errors }
    '
  done
}
