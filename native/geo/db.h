// The GeoIP country database behind `acl N permit|deny country CC` (spec/selection.md §8):
// a MaxMind DB file (GeoLite2-Country or any database with country.iso_code) opened with
// libmaxminddb, memory-mapped, read-only. The addon does not link libmaxminddb: it loads
// libmaxminddb.so.0 at run time (dlopen) the first time it is asked for it, so the same
// binary (a prebuild) works with and without the library installed. Build time needs only
// maxminddb.h (Debian: libmaxminddb-dev); without it (PEN_HAVE_MAXMINDDB undefined)
// kSupported is false and open() always refuses.
//
// Threads: open() and Cache are JS-thread only. A Db is immutable once open; lookups on a
// shared Db are safe from any thread (libmaxminddb's lookups only read the mapping). A Db is
// reached through shared_ptr: the snapshot the data plane runs on holds one, so a swap never
// unmaps a file a worker is reading; the last owner closes it, on whichever thread.
#pragma once
#include <memory>
#include <string>

#include "net/addr.h"

namespace pen::geo {

#ifdef PEN_HAVE_MAXMINDDB
constexpr bool kSupported = true;
#else
constexpr bool kSupported = false;
#endif

/* kSupported: this build has the libmaxminddb interface (maxminddb.h was found at build time). */
/* Why country entries cannot work in this build (the refusal text when !kSupported). */
constexpr const char* kUnsupported =
    "this build has no GeoIP support: maxminddb.h (Debian/Ubuntu: libmaxminddb-dev) was not found "
    "when the addon was built";

/* Why country entries cannot work on this machine (kSupported, library not loadable). */
constexpr const char* kNotInstalled =
    "libmaxminddb is not installed: libmaxminddb.so.0 could not be loaded (Debian/Ubuntu: apt-get install "
    "libmaxminddb0; FreeBSD: pkg install libmaxminddb)";

/* The version of the libmaxminddb loaded ("1.7.1"), or "" when !kSupported or when
   libmaxminddb.so.0 cannot be loaded. The first call loads it (any thread; once per process). */
std::string libraryVersion();

/* An ISO 3166-1 alpha-2 code plus NUL; "" = unknown. */
struct Code {
  char c[3] = {0, 0, 0};
  bool known() const { return c[0] != 0; }
};

class Db {
 public:
  /* Opens path (MMDB_MODE_MMAP). Throws std::runtime_error "GeoIP database 'PATH': REASON"
     (REASON: libmaxminddb's error text, kNotInstalled, or kUnsupported). */
  static std::shared_ptr<const Db> open(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  /* The client's country: country.iso_code, else registered_country.iso_code; unknown for
     unix clients, addresses not in the database, and records without either code. */
  Code country(const net::AddrKey& key) const;
  const std::string& path() const { return path_; }
  /* The file as it was when opened: device, inode, size and mtime. */
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  Db();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_, fingerprint_;
};

/* The fingerprint of the file at path now ("" when it cannot be stat'ed). */
std::string fingerprintOf(const std::string& path);

/* JS thread only. The Db of the last successful configure, and the file it was opened from. */
class Cache {
 public:
  /* The Db for path: the current one when path and the file (device, inode, size, mtime) are
     unchanged, else a freshly opened one -- so a HUP or any configure picks up a database
     that geoipupdate replaced. Throws like Db::open; the current one stays current.
     Does not make the result current: commit() it once the snapshot holding it is in. */
  std::shared_ptr<const Db> get(const std::string& path) const;
  /* Makes db (null: none) the current one. */
  void commit(std::shared_ptr<const Db> db) { db_ = std::move(db); }
  /* The committed Db, or null. */
  const std::shared_ptr<const Db>& current() const { return db_; }

 private:
  std::shared_ptr<const Db> db_;
};

}  // namespace pen::geo
