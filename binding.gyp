{
  "targets": [
    {
      "target_name": "tsvisor_native",
      "sources": ["native/addon.c", "native/oci.c", "native/gofer.c", "native/cpuclock.c", "native/net.c", "native/sentry_confine.c", "native/hostinet.c", "native/vdso_clock.c"],
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
        },
        {
          "action_name": "link_sentry_wait",
          "inputs": ["native/sentry_wait.c"],
          "outputs": ["<(PRODUCT_DIR)/tsvisor-sentry-wait"],
          "action": ["gcc", "-O2", "-static", "-Wall", "-Wextra", "-o", "<(PRODUCT_DIR)/tsvisor-sentry-wait", "native/sentry_wait.c"]
        },
        {
          "action_name": "link_vdso",
          "inputs": ["native/vdso/vdso.c", "native/vdso/vdso_params.h", "native/vdso/vdso.lds"],
          "outputs": ["<(PRODUCT_DIR)/tsvisor-vdso.so"],
          "action": ["gcc", "-O2", "-fPIC", "-shared", "-nostdlib", "-fno-stack-protector", "-fno-builtin",
                     "-Wl,-T,native/vdso/vdso.lds", "-Wl,--hash-style=both", "-Wl,-soname=linux-vdso.so.1",
                     "-Wl,--no-undefined", "-Wl,-z,max-page-size=4096", "-Wl,--eh-frame-hdr", "-Wl,--build-id=sha1",
                     "-o", "<(PRODUCT_DIR)/tsvisor-vdso.so", "native/vdso/vdso.c"]
        }
      ]
    }
  ]
}
