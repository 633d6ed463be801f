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

# spdlog, fmt and toml++ are used header-only (same Debian packages, no shared library): Debian's
# shared builds each pull in libstdc++.so, which alone was 1.6 MiB of the daemon's RSS. With them
# header-only the binary can link libstdc++ statically (src/CMakeLists.txt): 7.0 -> 5.3 MiB
# (bench/memory, issue 2's goal is <= 6 MB).
get_target_property(GC_SPDLOG_INCLUDES spdlog::spdlog_header_only INTERFACE_INCLUDE_DIRECTORIES)
get_target_property(GC_FMT_INCLUDES fmt::fmt-header-only INTERFACE_INCLUDE_DIRECTORIES)
add_library(gc_spdlog INTERFACE)
target_compile_definitions(gc_spdlog INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY=1)
target_include_directories(gc_spdlog SYSTEM INTERFACE ${GC_SPDLOG_INCLUDES} ${GC_FMT_INCLUDES})
target_link_libraries(gc_spdlog INTERFACE Threads::Threads)

get_target_property(GC_TOML_INCLUDES tomlplusplus::tomlplusplus INTERFACE_INCLUDE_DIRECTORIES)
add_library(gc_toml INTERFACE)
target_compile_definitions(gc_toml INTERFACE TOML_HEADER_ONLY=1)
target_include_directories(gc_toml SYSTEM INTERFACE ${GC_TOML_INCLUDES})

# Backups (issue 3): crypto, compression, archives, the state store, PostgreSQL and S3.
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3 REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(LIBCURL REQUIRED IMPORTED_TARGET libcurl)
