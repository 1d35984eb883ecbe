#pragma once
// CBCS_PER_THREAD(type, name): `name` is this thread's own `type` at this call
// site, made on first use, destroyed when the thread ends. On Linux that is
// `thread_local`. On Windows it is Fiber Local Storage: MinGW-w64's GCC 12 runs
// the destructors of thread_local objects after the thread's emulated TLS is
// gone, which corrupts the heap at thread exit (seen under Wine in the unit
// tests); an FLS callback runs while the thread still exists.

#ifdef _WIN32
#include <windows.h>

namespace cbcs {

template <class T>
class fls_slot {
 public:
  fls_slot() : index_(FlsAlloc(&destroy)) {}
  fls_slot(const fls_slot&) = delete;
  fls_slot& operator=(const fls_slot&) = delete;

  T& get() {
    auto* p = static_cast<T*>(FlsGetValue(index_));
    if (!p) {
      p = new T();
      FlsSetValue(index_, p);
    }
    return *p;
  }

 private:
  static void WINAPI destroy(void* p) { delete static_cast<T*>(p); }
  DWORD index_;
};

}  // namespace cbcs

#define CBCS_PER_THREAD(type, name)          \
  static ::cbcs::fls_slot<type> name##_slot; \
  type& name = name##_slot.get()
#else
#define CBCS_PER_THREAD(type, name) thread_local type name
#endif
