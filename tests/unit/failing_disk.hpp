#pragma once
// A disk whose writes fail, for tests: a SQLite VFS that wraps the default
// one and, while fail(true), refuses every write to a write-ahead log with
// SQLITE_FULL. SQLite writes the log at COMMIT, so a transaction's steps
// succeed and its commit fails, as on a disk that filled up meanwhile.

namespace cbcs::test {

class failing_disk {
 public:
  // Becomes the default VFS: databases opened from now on go through it.
  failing_disk();
  // Only after every connection opened through it is closed.
  ~failing_disk();
  failing_disk(const failing_disk&) = delete;
  failing_disk& operator=(const failing_disk&) = delete;

  void fail(bool on);
};

}  // namespace cbcs::test
