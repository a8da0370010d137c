{
  "targets": [
    {
      "target_name": "sluice_splice",
      "sources": ["src/accept-binding.cc", "src/accept-path.cc", "src/addon.cc", "src/epoll-set.cc", "src/pipe-pool.cc", "src/port-probe.cc", "src/relay.cc", "src/sd-notify.cc", "src/udp-napi.cc", "src/udp-pacer.cc", "src/udp-relay.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "_GNU_SOURCE"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
