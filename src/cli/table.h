// SPDX-License-Identifier: MIT
// cli/table.h: left-aligned text columns for human output.
#pragma once

#include <string>
#include <vector>

namespace gc::cli {

// Renders rows (the first is the header) with two spaces between columns.
std::string render_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace gc::cli
