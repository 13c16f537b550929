// JS snapshot -> C++ structs (snapshot.h), checked field by field. A bad field throws a
// TypeError with code PEN_ERR_SNAPSHOT naming its path (e.g. "servers[3].port").
// encode*() turn the structs back into plain data for the _decodeEcho debug hook.
// JS thread only.
#pragma once
#include <napi.h>

#include "snapshot.h"

namespace pen::decode {

Snapshot snapshot(const Napi::Value& v);
ListenSpec listenSpec(const Napi::Value& v);
Napi::Object encode(Napi::Env env, const Snapshot& s);

}  // namespace pen::decode
