// SPDX-License-Identifier: MIT
// provision/unified_diff.cc: Myers' O(ND) line diff ("An O(ND) Difference Algorithm and Its
// Variations", 1986) and GNU diff's unified output.
#include "provision/unified_diff.h"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace gc::provision {
namespace {

constexpr std::size_t kContext = 3;

enum class Op : char { kEqual, kDelete, kInsert };

// Lines with their terminators, so that "a" and "a\n" differ as they do for GNU diff.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

// A shortest edit script turning a into b. Each `trace` entry keeps only the diagonals -d..d
// reached at step d, so memory is O(D^2), not O((N+M)·D).
std::vector<Op> myers(const std::vector<std::string_view>& a,
                      const std::vector<std::string_view>& b) {
  const long n = static_cast<long>(a.size());
  const long m = static_cast<long>(b.size());
  std::vector<std::vector<long>> trace;  // trace[d][k + d] = furthest x on diagonal k after d.
  std::vector<long> prev;                // Step d-1, indexed k + (d-1).
  auto at = [](const std::vector<long>& v, long d, long k) {
    return v[static_cast<std::size_t>(k + d)];
  };
  for (long d = 0; d <= n + m; ++d) {
    std::vector<long> cur(static_cast<std::size_t>(2 * d + 1), 0);
    bool done = false;
    for (long k = -d; k <= d; k += 2) {
      long x;
      if (d == 0) {
        x = 0;
      } else if (k == -d || (k != d && at(prev, d - 1, k - 1) < at(prev, d - 1, k + 1))) {
        x = at(prev, d - 1, k + 1);  // Down: insert b[y].
      } else {
        x = at(prev, d - 1, k - 1) + 1;  // Right: delete a[x].
      }
      long y = x - k;
      while (x < n && y < m && a[static_cast<std::size_t>(x)] == b[static_cast<std::size_t>(y)]) {
        ++x;
        ++y;
      }
      cur[static_cast<std::size_t>(k + d)] = x;
      if (x >= n && y >= m) done = true;
    }
    trace.push_back(cur);
    prev = std::move(cur);
    if (done) break;
  }
  std::vector<Op> ops;
  long x = n, y = m;
  for (long d = static_cast<long>(trace.size()) - 1; d > 0; --d) {
    const std::vector<long>& v = trace[static_cast<std::size_t>(d - 1)];
    long k = x - y;
    long prev_k =
        (k == -d || (k != d && at(v, d - 1, k - 1) < at(v, d - 1, k + 1))) ? k + 1 : k - 1;
    long prev_x = at(v, d - 1, prev_k);
    long prev_y = prev_x - prev_k;
    while (x > prev_x && y > prev_y) {
      ops.push_back(Op::kEqual);
      --x;
      --y;
    }
    ops.push_back(x == prev_x ? Op::kInsert : Op::kDelete);
    x = prev_x;
    y = prev_y;
  }
  while (x > 0 && y > 0) {
    ops.push_back(Op::kEqual);
    --x;
    --y;
  }
  std::reverse(ops.begin(), ops.end());
  return ops;
}

// GNU's range notation: "L" for one line, "L,N" otherwise, and the line before for none.
std::string range(std::size_t start, std::size_t count) {
  if (count == 0) return std::to_string(start - 1) + ",0";
  if (count == 1) return std::to_string(start);
  return std::to_string(start) + "," + std::to_string(count);
}

void append_line(std::string& out, char mark, std::string_view line) {
  out += mark;
  out += line;
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

}  // namespace

std::string unified_diff(std::string_view old_text, std::string_view new_text,
                         std::string_view path) {
  if (old_text == new_text) return "";
  std::vector<std::string_view> a = split_lines(old_text);
  std::vector<std::string_view> b = split_lines(new_text);
  // The common head and tail are matched first, as GNU diff does; Myers runs on the middle.
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
    ++tail;
  }
  std::vector<std::string_view> mid_a(a.begin() + static_cast<long>(head),
                                      a.end() - static_cast<long>(tail));
  std::vector<std::string_view> mid_b(b.begin() + static_cast<long>(head),
                                      b.end() - static_cast<long>(tail));
  std::vector<Op> ops(head, Op::kEqual);
  std::vector<Op> mid = myers(mid_a, mid_b);
  ops.insert(ops.end(), mid.begin(), mid.end());
  ops.insert(ops.end(), tail, Op::kEqual);

  // Line numbers (0-based) in a and b before each op.
  std::vector<std::size_t> ai(ops.size() + 1), bi(ops.size() + 1);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ai[i + 1] = ai[i] + (ops[i] != Op::kInsert ? 1 : 0);
    bi[i + 1] = bi[i] + (ops[i] != Op::kDelete ? 1 : 0);
  }

  std::string_view name = path;
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  std::string out = "--- a/" + std::string(name) + "\n+++ b/" + std::string(name) + "\n";
  std::size_t i = 0;
  while (i < ops.size()) {
    if (ops[i] == Op::kEqual) {
      ++i;
      continue;
    }
    // A hunk: from kContext lines before this change through every change whose gap to the
    // previous one is at most 2·kContext equal lines, plus kContext lines after.
    std::size_t begin = i >= kContext ? i - kContext : 0;
    std::size_t last = i;  // Last changed op in the hunk.
    std::size_t j = i;
    while (j < ops.size()) {
      if (ops[j] != Op::kEqual) {
        last = j;
        ++j;
        continue;
      }
      std::size_t k = j;
      while (k < ops.size() && ops[k] == Op::kEqual) ++k;
      if (k < ops.size() && k - j <= 2 * kContext) {
        j = k;
        continue;
      }
      break;
    }
    std::size_t end = std::min(ops.size(), last + 1 + kContext);
    out += "@@ -" + range(ai[begin] + 1, ai[end] - ai[begin]) + " +" +
           range(bi[begin] + 1, bi[end] - bi[begin]) + " @@\n";
    std::size_t p = begin;
    while (p < end) {
      if (ops[p] == Op::kEqual) {
        append_line(out, ' ', a[ai[p]]);
        ++p;
        continue;
      }
      // One change: all its deleted lines, then all its inserted lines.
      std::size_t q = p;
      while (q < end && ops[q] != Op::kEqual) ++q;
      for (std::size_t r = p; r < q; ++r) {
        if (ops[r] == Op::kDelete) append_line(out, '-', a[ai[r]]);
      }
      for (std::size_t r = p; r < q; ++r) {
        if (ops[r] == Op::kInsert) append_line(out, '+', b[bi[r]]);
      }
      p = q;
    }
    i = end;
  }
  return out;
}

}  // namespace gc::provision
