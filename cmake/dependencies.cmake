# SPDX-License-Identifier: MIT
# Finds every third-party library once. All come from Debian 12 packages (scripts/install-deps).
find_package(tl-expected CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
# Boost.Asio is header-only; only the headers are needed.
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS headers)
if(GC_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
