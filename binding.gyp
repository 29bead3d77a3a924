{
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["native/udp_batch.c"],
      "conditions": [["OS!='linux'", {"type": "none"}]],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "es512_verify",
      "type": "<!(node -p \"require('fs').existsSync('/usr/include/openssl/evp.h') ? 'loadable_module' : 'none'\")",
      "sources": ["native/es512_verify.c"],
      "conditions": [["OS!='linux'", {"type": "none"}]],
      "libraries": ["-ldl"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
