// SPDX-License-Identifier: MIT
// cli/cli.h: argv → command. The exit codes are those of cli/exit_codes.h.
#pragma once

namespace gc::cli {

int run(int argc, char** argv);

}  // namespace gc::cli
