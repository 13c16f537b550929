# libmaxminddb is loaded at run time (native/geo/db.cc): building needs only maxminddb.h.
{
  "variables": {
    "pen_maxminddb%": "<!(pkg-config --exists libmaxminddb 2>/dev/null && echo 1 || echo 0)"
  },
  "targets": [{
    "target_name": "pen_native",
    "sources": ["<!@(node -p \"require('./native/sources.json').sources.join(' ')\")"],
    "include_dirs": ["native"],
    "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fexceptions"],
    "cflags_cc!": ["-std=gnu++17", "-fno-exceptions"],
    "conditions": [
      ["OS=='linux'", {"ldflags": ["-Wl,-z,now"], "libraries": ["-ldl"]}],
      ["OS=='freebsd'", {"defines": ["PEN_HAVE_IP_BINDANY"]}],
      ["pen_maxminddb==1", {
        "defines": ["PEN_HAVE_MAXMINDDB"],
        "cflags_cc": ["<!@(pkg-config --cflags libmaxminddb)"]
      }]
    ]
  }]
}
