# Cross-compiling the addon for linux-arm64 (glibc) on Debian/Ubuntu x86_64, used by
# scripts/prebuilds.cjs. Needs g++-aarch64-linux-gnu and the arm64 headers of
# libssl-dev and libmaxminddb-dev (multiarch: dpkg --add-architecture arm64), see .ci/run.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Debian's cross compiler searches /usr/include but not the multiarch directory where the
# arm64 packages put their architecture-specific headers (openssl/configuration.h, maxminddb.h).
set(CMAKE_CXX_FLAGS_INIT "-isystem /usr/include/aarch64-linux-gnu")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
