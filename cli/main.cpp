#include <cstdlib>  // defines __GLIBC__ on glibc

#include "cli/app.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#endif

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // Each job's buffers grew the thread arenas and freeing them gave the pages
  // back: ~5 mprotect calls and their page faults per job against a slow CA.
  // Keep up to 8 MiB free at an arena's top and grow it 4 MiB at a time.
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  mallopt(M_TOP_PAD, 4 << 20);
  // Setting those fixes the mmap threshold at its 128 KiB start; blocks up
  // to 4 MiB (job batches, parser buffers) come from the arenas instead.
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
#endif
  return cbcs::cli::run_app(argc, argv);
}
