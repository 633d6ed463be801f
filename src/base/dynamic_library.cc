// SPDX-License-Identifier: MIT
#include "base/dynamic_library.h"

#include <dlfcn.h>

namespace gc {

Result<DynamicLibrary> DynamicLibrary::open(const std::string& soname, std::string_view package) {
  // RTLD_LOCAL: its symbols serve only it, never the libraries we link statically.
  void* h = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* why = ::dlerror();
    return tl::unexpected(
        Error{Errc::kNotFound, soname + " cannot be loaded (" + (why ? why : "unknown error") +
                                   "); install it: apt-get install " + std::string(package)});
  }
  return DynamicLibrary(h, soname);
}

DynamicLibrary::~DynamicLibrary() {
  if (handle_ != nullptr) ::dlclose(handle_);
}

Result<void*> DynamicLibrary::lookup(const char* name) const {
  ::dlerror();
  void* p = ::dlsym(handle_, name);
  if (p == nullptr) {
    return tl::unexpected(Error{Errc::kNotFound, soname_ + " has no symbol " + name +
                                                     ": the installed version is too old"});
  }
  return p;
}

}  // namespace gc
