# SPDX-License-Identifier: MIT
# Finds every third-party library once. All come from Debian 12 packages (scripts/install-deps).
find_package(tl-expected CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
set(ZLIB_USE_STATIC_LIBS ON)  # See the note on backups below.
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
# Every shared library the binary links is mapped into every groundctl process, the daemon
# included, with its own dependencies: linking libpq, libcurl and libarchive pulled in ~40
# libraries and took the daemon from 5.3 to 14.8 MiB RSS (bench/memory). So the small ones are
# linked statically, and libcurl, libarchive, libcrypto/libssl and libzstd (whose static build has
# no threads) are opened at run time by the code that uses them (base/dynamic_library.h); only
# their headers are needed here. PostgreSQL needs no library: backup/pg_client.h speaks the
# protocol itself (dlopened, libpq still mapped ~5.3 MiB while the monitor was connected).
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3 REQUIRED)
pkg_check_modules(SODIUM REQUIRED libsodium)
pkg_check_modules(ZSTD REQUIRED libzstd)
pkg_check_modules(SQLITE3 REQUIRED sqlite3)
pkg_check_modules(LIBARCHIVE REQUIRED libarchive)
pkg_check_modules(LIBCURL REQUIRED libcurl)

# gc_static(NAME FILE [DEPS...]): an imported static library found by its file name.
function(gc_static name file)
  find_library(GC_${name}_ARCHIVE NAMES ${file} REQUIRED)
  add_library(gc::${name} STATIC IMPORTED GLOBAL)
  set_target_properties(gc::${name} PROPERTIES IMPORTED_LOCATION ${GC_${name}_ARCHIVE}
                        INTERFACE_LINK_LIBRARIES "${ARGN}")
endfunction()
gc_static(sodium libsodium.a Threads::Threads)
gc_static(sqlite3 libsqlite3.a Threads::Threads ${CMAKE_DL_LIBS} m)

# Headers only: the libraries themselves are dlopen'ed.
add_library(gc::openssl_headers INTERFACE IMPORTED GLOBAL)
target_include_directories(gc::openssl_headers SYSTEM INTERFACE ${OPENSSL_INCLUDE_DIR})
add_library(gc::libcurl_headers INTERFACE IMPORTED GLOBAL)
target_include_directories(gc::libcurl_headers SYSTEM INTERFACE ${LIBCURL_INCLUDE_DIRS})
add_library(gc::zstd_headers INTERFACE IMPORTED GLOBAL)
target_include_directories(gc::zstd_headers SYSTEM INTERFACE ${ZSTD_INCLUDE_DIRS})
add_library(gc::libarchive_headers INTERFACE IMPORTED GLOBAL)
target_include_directories(gc::libarchive_headers SYSTEM INTERFACE ${LIBARCHIVE_INCLUDE_DIRS})
