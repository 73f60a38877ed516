{
  "targets": [
    {
      "target_name": "tsvisor_native",
      "sources": ["native/addon.c", "native/oci.c", "native/gofer.c", "native/cpuclock.c", "native/net.c", "native/sentry_confine.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "tsvisor_stub",
      "type": "none",
      "actions": [
        {
          "action_name": "link_stub",
          "inputs": ["native/stub.S"],
          "outputs": ["<(PRODUCT_DIR)/tsvisor-stub"],
          "action": ["gcc", "-nostdlib", "-static", "-no-pie", "-Wl,-z,noseparate-code",
                     "-Wl,-Ttext-segment=0x7fff00000000", "-Wl,--build-id=none",
                     "-o", "<(PRODUCT_DIR)/tsvisor-stub", "native/stub.S"]
        }
      ]
    }
  ]
}
