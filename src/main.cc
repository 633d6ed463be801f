// SPDX-License-Identifier: MIT
// main.cc: argv → cli::run. The only catch-all: a library exception that escaped an adapter is
// a bug, reported and turned into a non-zero exit.
#include <cstdio>
#include <exception>

#include "cli/cli.h"

int main(int argc, char** argv) {
  try {
    return gc::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "groundctl: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "groundctl: internal error\n");
  }
  return 70;
}
