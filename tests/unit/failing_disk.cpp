#include "failing_disk.hpp"

#include <sqlite3.h>

#include <atomic>
#include <cstring>

namespace cbcs::test {
namespace {

std::atomic<bool> failing{false};
sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs shim_vfs;

// Our file handle, followed in memory by the real VFS's own.
struct shim_file {
  sqlite3_file base;
  sqlite3_file* real;
  bool wal;
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<shim_file*>(f)->real; }

int shim_close(sqlite3_file* f) { return real_of(f)->pMethods->xClose(real_of(f)); }
int shim_read(sqlite3_file* f, void* p, int n, sqlite3_int64 off) {
  return real_of(f)->pMethods->xRead(real_of(f), p, n, off);
}
int shim_write(sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
  if (reinterpret_cast<shim_file*>(f)->wal && failing) return SQLITE_FULL;
  return real_of(f)->pMethods->xWrite(real_of(f), p, n, off);
}
int shim_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
int shim_sync(sqlite3_file* f, int flags) { return real_of(f)->pMethods->xSync(real_of(f), flags); }
int shim_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int shim_lock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xLock(real_of(f), l); }
int shim_unlock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xUnlock(real_of(f), l); }
int shim_check_reserved(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int shim_file_control(sqlite3_file* f, int op, void* arg) {
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int shim_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int shim_device(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int shim_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}
int shim_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void shim_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int shim_shm_unmap(sqlite3_file* f, int del) {
  return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}
int shim_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return real_of(f)->pMethods->xFetch(real_of(f), off, n, out);
}
int shim_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

const sqlite3_io_methods shim_methods = {
    3,
    shim_close,
    shim_read,
    shim_write,
    shim_truncate,
    shim_sync,
    shim_file_size,
    shim_lock,
    shim_unlock,
    shim_check_reserved,
    shim_file_control,
    shim_sector_size,
    shim_device,
    shim_shm_map,
    shim_shm_lock,
    shim_shm_barrier,
    shim_shm_unmap,
    shim_fetch,
    shim_unfetch,
};

int shim_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* shim = reinterpret_cast<shim_file*>(f);
  shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
  shim->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = real_vfs->xOpen(real_vfs, name, shim->real, flags, out_flags);
  // SQLite calls xClose only on a file whose pMethods is set.
  shim->base.pMethods = shim->real->pMethods ? &shim_methods : nullptr;
  return rc;
}

}  // namespace

failing_disk::failing_disk() {
  real_vfs = sqlite3_vfs_find(nullptr);
  shim_vfs = *real_vfs;
  shim_vfs.zName = "cbcs-failing-disk";
  shim_vfs.szOsFile = static_cast<int>(sizeof(shim_file)) + real_vfs->szOsFile;
  shim_vfs.xOpen = shim_open;
  shim_vfs.pNext = nullptr;
  sqlite3_vfs_register(&shim_vfs, 1);
}

failing_disk::~failing_disk() {
  failing = false;
  sqlite3_vfs_unregister(&shim_vfs);
  sqlite3_vfs_register(real_vfs, 1);
}

void failing_disk::fail(bool on) { failing = on; }

}  // namespace cbcs::test
