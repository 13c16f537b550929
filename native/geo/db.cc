#include "geo/db.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#ifdef PEN_HAVE_MAXMINDDB
#include <dlfcn.h>
#include <maxminddb.h>
#endif

namespace pen::geo {

std::string fingerprintOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

std::shared_ptr<const Db> Cache::get(const std::string& path) const {
  if (db_ && db_->path() == path && db_->fingerprint() == fingerprintOf(path)) return db_;
  return Db::open(path);
}

#ifdef PEN_HAVE_MAXMINDDB

namespace {
/* The libmaxminddb functions pen calls, resolved from libmaxminddb.so.0 (ABI 0, the soname of
   every libmaxminddb 1.x). Typed from maxminddb.h, so a mismatch is a compile error. */
struct Lib {
  decltype(&MMDB_open) open = nullptr;
  decltype(&MMDB_close) close = nullptr;
  decltype(&MMDB_lookup_sockaddr) lookupSockaddr = nullptr;
  decltype(&MMDB_aget_value) agetValue = nullptr;
  decltype(&MMDB_strerror) strerror = nullptr;
  decltype(&MMDB_lib_version) libVersion = nullptr;
};

template <typename F>
bool resolve(void* handle, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(handle, name));
  return out != nullptr;
}

/* The library, or null when it cannot be loaded (not installed, or a build without one of the
   functions). Loaded on the first call (thread-safe static initialisation), never unloaded. */
const Lib* lib() {
  static const Lib* loaded = []() -> const Lib* {
    void* h = dlopen("libmaxminddb.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) return nullptr;
    static Lib l;
    if (resolve(h, "MMDB_open", l.open) && resolve(h, "MMDB_close", l.close) &&
        resolve(h, "MMDB_lookup_sockaddr", l.lookupSockaddr) && resolve(h, "MMDB_aget_value", l.agetValue) &&
        resolve(h, "MMDB_strerror", l.strerror) && resolve(h, "MMDB_lib_version", l.libVersion))
      return &l;
    dlclose(h);
    return nullptr;
  }();
  return loaded;
}
}  // namespace

struct Db::Impl {
  MMDB_s mmdb{};
  bool open = false;
};

Db::Db() : impl_(std::make_unique<Impl>()) {}

Db::~Db() {
  if (impl_->open) lib()->close(&impl_->mmdb);  // open implies lib() is loaded
}

std::string libraryVersion() {
  const Lib* l = lib();
  return l ? l->libVersion() : "";
}

std::shared_ptr<const Db> Db::open(const std::string& path) {
  std::shared_ptr<Db> db(new Db());
  db->path_ = path;
  db->fingerprint_ = fingerprintOf(path);
  const Lib* l = lib();
  if (!l) throw std::runtime_error("GeoIP database '" + path + "': " + kNotInstalled);
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw std::runtime_error("GeoIP database '" + path + "': not a regular file");
  errno = 0;
  int status = l->open(path.c_str(), MMDB_MODE_MMAP, &db->impl_->mmdb);
  int err = errno;
  if (status != MMDB_SUCCESS) {
    std::string reason = l->strerror(status);
    if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && err) reason += std::string(" (") + strerror(err) + ")";
    throw std::runtime_error("GeoIP database '" + path + "': " + reason);
  }
  db->impl_->open = true;
  return db;
}

namespace {
/* The two-letter string at first.iso_code in entry, if there is one. */
bool isoCode(MMDB_entry_s* entry, const char* first, Code& out) {
  MMDB_entry_data_s data{};
  const char* const keys[] = {first, "iso_code", nullptr};
  if (lib()->agetValue(entry, &data, keys) != MMDB_SUCCESS) return false;
  if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2) return false;
  out.c[0] = data.utf8_string[0];
  out.c[1] = data.utf8_string[1];
  return true;
}
}  // namespace

Code Db::country(const net::AddrKey& key) const {
  Code code;
  if (key.b[0] != 4 && key.b[0] != 6) return code;  // unix clients have no country
  sockaddr_storage ss{};
  if (net::keyIsV4(key)) {  // as IPv4, so the database's IPv4 subtree is used with or without a ::ffff: alias
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    memcpy(&sin->sin_addr, net::keyBytes(key) + 12, 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    memcpy(&sin6->sin6_addr, net::keyBytes(key), 16);
  }
  int mmdbError = MMDB_SUCCESS;
  MMDB_lookup_result_s r = lib()->lookupSockaddr(&impl_->mmdb, reinterpret_cast<const sockaddr*>(&ss), &mmdbError);
  if (mmdbError != MMDB_SUCCESS || !r.found_entry) return code;  // e.g. IPv6 in an IPv4-only database
  if (!isoCode(&r.entry, "country", code)) isoCode(&r.entry, "registered_country", code);
  return code;
}

#else  // built without libmaxminddb

struct Db::Impl {};
Db::Db() = default;
Db::~Db() = default;

std::string libraryVersion() { return ""; }

std::shared_ptr<const Db> Db::open(const std::string& path) {
  throw std::runtime_error("GeoIP database '" + path + "': " + kUnsupported);
}

Code Db::country(const net::AddrKey&) const { return Code{}; }

#endif

}  // namespace pen::geo
