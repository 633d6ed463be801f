// SPDX-License-Identifier: MIT
// base/dynamic_library.h: a shared library opened at run time (dlopen), for the few large client
// libraries (libcurl, libarchive, OpenSSL) that only some commands use. Linking them would make
// the dynamic loader map them and their ~30 dependencies into every groundctl process, the
// daemon included, which tripled its resident memory.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace gc {

class DynamicLibrary {
 public:
  // dlopen(soname). Errors: kNotFound "SONAME is not installed (apt-get install PACKAGE)".
  static Result<DynamicLibrary> open(const std::string& soname, std::string_view package);
  DynamicLibrary(DynamicLibrary&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)) {}
  DynamicLibrary& operator=(DynamicLibrary&&) = delete;
  DynamicLibrary(const DynamicLibrary&) = delete;
  ~DynamicLibrary();

  // The address of `name`, cast to the type of `*out`. Errors: kNotFound naming the symbol (a
  // library too old for us).
  template <typename Fn>
  Status bind(const char* name, Fn*& out) const {
    GC_ASSIGN_OR_RETURN(void* p, lookup(name));
    out = reinterpret_cast<Fn*>(p);
    return {};
  }

 private:
  DynamicLibrary(void* handle, std::string soname) : handle_(handle), soname_(std::move(soname)) {}
  Result<void*> lookup(const char* name) const;
  void* handle_ = nullptr;
  std::string soname_;
};

}  // namespace gc
