/*
 * Batched UDP for `emblem dns serve` (Linux): recvmmsg/sendmmsg on a non-blocking socket watched by libuv, so a
 * burst of queries costs two system calls per batch instead of two per query, as in NSD and Knot. node:dgram has
 * no batch API in Node 20, and on this machine class the per-datagram system calls were most of the server's time.
 *
 * JavaScript sees one call per batch: handler(messages: Buffer[], peers: string[]) returns an array of the same
 * length whose entries are a response Buffer or null (no answer). Addresses never cross into JavaScript except
 * as the peer strings used in error logs. The module is optional: without it (other systems, no compiler) the
 * server uses node:dgram and behaves the same, only slower.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define BATCH 64
/* Largest datagram read; a DNS query over UDP is far smaller (EDNS payload sizes describe responses). */
#define MAX_DATAGRAM 4096
/* Batches handled per readiness callback before yielding to the event loop (TCP and timers must keep running). */
#define ROUNDS_PER_WAKEUP 8

typedef struct {
  napi_env env;
  napi_ref handler;
  uv_poll_t poll;
  int fd;
  int closing;
  /* Freed when both happened: libuv released the poll handle, and the JavaScript object was collected. */
  int closed;
  int finalized;
  unsigned char (*buffers)[MAX_DATAGRAM];
  struct sockaddr_storage peers[BATCH];
  struct mmsghdr in[BATCH];
  struct iovec in_iov[BATCH];
  struct mmsghdr out[BATCH];
  struct iovec out_iov[BATCH];
  double dropped_sends;
  /* A client socket (the resolver's): received batches are handed over with napi_make_callback, so promises
   * resolved by the handler settle before control returns to libuv; nothing is sent back. */
  int client;
  napi_async_context async_context;
} batch_socket;

static napi_value throw_errno(napi_env env, const char *what) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(errno));
  napi_throw_error(env, "DNS_LISTEN_FAILED", message);
  return NULL;
}

static void peer_string(const struct sockaddr_storage *ss, char *out, size_t len) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    snprintf(out, len, "%s:%d", host, port);
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    snprintf(out, len, "[%s]:%d", host, port);
  }
}

/* Clears an exception a handler let escape (the socket keeps serving). */
static void clear_exception(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
}

/* The peer of message i as a string; consecutive datagrams from the same address share one string. */
static napi_value peer_value(batch_socket *s, int i, napi_value previous) {
  napi_value peer;
  if (previous != NULL && s->in[i].msg_hdr.msg_namelen == s->in[i - 1].msg_hdr.msg_namelen &&
      memcmp(&s->peers[i], &s->peers[i - 1], s->in[i].msg_hdr.msg_namelen) == 0)
    return previous;
  char text[INET6_ADDRSTRLEN + 10];
  peer_string(&s->peers[i], text, sizeof text);
  napi_create_string_utf8(s->env, text, NAPI_AUTO_LENGTH, &peer);
  return peer;
}

/*
 * Hands one received batch to JavaScript and sends back what it returns. A server's handler gets a Buffer per
 * message; a client's gets the whole batch in one Buffer and the end offset of each message (one allocation per
 * batch instead of one per message: the resolver client receives tens of thousands of answers a second).
 */
static void serve_batch(batch_socket *s, int count) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value messages, peers, handler, global, result, peer = NULL;
  napi_create_array_with_length(env, count, &peers);
  if (s->client) {
    size_t total = 0;
    for (int i = 0; i < count; i++) total += s->in[i].msg_len;
    unsigned char *data = NULL;
    napi_value ends;
    if (napi_create_buffer(env, total, (void **)&data, &messages) != napi_ok) {
      /* Out of memory: the batch is dropped, its queries time out. */
      clear_exception(env);
      napi_close_handle_scope(env, scope);
      return;
    }
    napi_create_array_with_length(env, count, &ends);
    size_t at = 0;
    for (int i = 0; i < count; i++) {
      napi_value end;
      if (s->in[i].msg_len > 0) memcpy(data + at, s->buffers[i], s->in[i].msg_len);
      at += s->in[i].msg_len;
      napi_create_uint32(env, (uint32_t)at, &end);
      napi_set_element(env, ends, i, end);
      peer = peer_value(s, i, peer);
      napi_set_element(env, peers, i, peer);
    }
    napi_get_reference_value(env, s->handler, &handler);
    napi_get_global(env, &global);
    napi_value argv[3] = {messages, ends, peers};
    if (napi_make_callback(env, s->async_context, global, handler, 3, argv, &result) != napi_ok) clear_exception(env);
    napi_close_handle_scope(env, scope);
    return;
  }
  napi_create_array_with_length(env, count, &messages);
  for (int i = 0; i < count; i++) {
    void *data;
    napi_value buf;
    napi_create_buffer_copy(env, s->in[i].msg_len, s->buffers[i], &data, &buf);
    napi_set_element(env, messages, i, buf);
    peer = peer_value(s, i, peer);
    napi_set_element(env, peers, i, peer);
  }
  napi_get_reference_value(env, s->handler, &handler);
  napi_get_global(env, &global);
  napi_value argv[2] = {messages, peers};
  if (napi_call_function(env, global, handler, 2, argv, &result) != napi_ok) {
    /* The handler catches its own errors; anything escaping it is cleared so the server keeps serving. */
    clear_exception(env);
    napi_close_handle_scope(env, scope);
    return;
  }
  int n = 0;
  for (int i = 0; i < count; i++) {
    napi_value item;
    bool is_buffer = false;
    if (napi_get_element(env, result, i, &item) != napi_ok) break;
    napi_is_buffer(env, item, &is_buffer);
    if (!is_buffer) continue;
    void *data;
    size_t len;
    napi_get_buffer_info(env, item, &data, &len);
    /* The Buffer stays alive until the handle scope closes, after sendmmsg. */
    s->out_iov[n].iov_base = data;
    s->out_iov[n].iov_len = len;
    memset(&s->out[n].msg_hdr, 0, sizeof s->out[n].msg_hdr);
    s->out[n].msg_hdr.msg_name = &s->peers[i];
    s->out[n].msg_hdr.msg_namelen = s->in[i].msg_hdr.msg_namelen;
    s->out[n].msg_hdr.msg_iov = &s->out_iov[n];
    s->out[n].msg_hdr.msg_iovlen = 1;
    n++;
  }
  int sent = 0;
  while (sent < n) {
    int r = sendmmsg(s->fd, s->out + sent, n - sent, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      /* A full send buffer or an unreachable peer: drop this datagram (UDP), keep the rest. */
      s->dropped_sends++;
      sent++;
      continue;
    }
    sent += r;
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  batch_socket *s = poll->data;
  if (status < 0 || s->closing) return;
  for (int round = 0; round < ROUNDS_PER_WAKEUP; round++) {
    for (int i = 0; i < BATCH; i++) {
      s->in_iov[i].iov_base = s->buffers[i];
      s->in_iov[i].iov_len = MAX_DATAGRAM;
      memset(&s->in[i].msg_hdr, 0, sizeof s->in[i].msg_hdr);
      s->in[i].msg_hdr.msg_name = &s->peers[i];
      s->in[i].msg_hdr.msg_namelen = sizeof s->peers[i];
      s->in[i].msg_hdr.msg_iov = &s->in_iov[i];
      s->in[i].msg_hdr.msg_iovlen = 1;
    }
    int count = recvmmsg(s->fd, s->in, BATCH, MSG_DONTWAIT, NULL);
    if (count <= 0) return;
    serve_batch(s, count);
    if (s->closing || count < BATCH) return;
  }
}

static void on_closed(uv_handle_t *handle) {
  batch_socket *s = handle->data;
  close(s->fd);
  /* After finalization (environment teardown at exit, or the object collected) N-API may no longer be usable: the
   * async context is then left to the process's end. */
  if (s->client && !s->finalized) napi_async_destroy(s->env, s->async_context);
  napi_delete_reference(s->env, s->handler);
  free(s->buffers);
  s->buffers = NULL;
  s->closed = 1;
  if (s->finalized) free(s);
}

static void on_finalized(napi_env env, void *data, void *hint) {
  batch_socket *s = data;
  s->finalized = 1;
  if (!s->closing) {
    /* Collected while open: nothing can close it any more, so close it now. */
    s->closing = 1;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_closed);
    return;
  }
  if (s->closed) free(s);
}

/* open(host: string, port: number, ipv6: boolean, bufferBytes: number, handler, client?: boolean)
 *   -> { port, close(), dropped(), send(messages, host, port) } */
static napi_value close_socket(napi_env env, napi_callback_info info);
static napi_value dropped_sends(napi_env env, napi_callback_info info);
static napi_value send_batch(napi_env env, napi_callback_info info);

static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "open(host, port, ipv6, bufferBytes, handler)");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN];
  size_t host_len;
  int32_t port, buffer_bytes;
  bool ipv6;
  napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_len);
  napi_get_value_int32(env, argv[1], &port);
  napi_get_value_bool(env, argv[2], &ipv6);
  napi_get_value_int32(env, argv[3], &buffer_bytes);

  int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket");
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  struct sockaddr_storage addr;
  socklen_t addr_len;
  memset(&addr, 0, sizeof addr);
  if (ipv6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
      close(fd);
      napi_throw_error(env, "USAGE", "not an IPv6 address");
      return NULL;
    }
    addr_len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&addr;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
      close(fd);
      napi_throw_error(env, "USAGE", "not an IPv4 address");
      return NULL;
    }
    addr_len = sizeof *a;
  }
  if (bind(fd, (struct sockaddr *)&addr, addr_len) < 0) {
    napi_value err = throw_errno(env, "bind");
    close(fd);
    return err;
  }
  getsockname(fd, (struct sockaddr *)&addr, &addr_len);
  int bound_port = ntohs(ipv6 ? ((struct sockaddr_in6 *)&addr)->sin6_port : ((struct sockaddr_in *)&addr)->sin_port);

  batch_socket *s = calloc(1, sizeof *s);
  if (s) s->buffers = malloc(BATCH * sizeof *s->buffers);
  if (!s || !s->buffers) {
    if (s) free(s);
    close(fd);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  bool client = false;
  if (argc >= 6) napi_get_value_bool(env, argv[5], &client);
  s->client = client;
  if (client) {
    napi_value resource, name;
    napi_create_object(env, &resource);
    napi_create_string_utf8(env, "emblem:udp-batch-client", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, resource, name, &s->async_context);
  }
  napi_create_reference(env, argv[4], 1, &s->handler);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init_socket(loop, &s->poll, fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  /* A client socket must not keep a finished process alive (its callers' timers do while queries are pending). */
  if (client) uv_unref((uv_handle_t *)&s->poll);

  napi_value result, value, fn;
  napi_create_object(env, &result);
  napi_create_int32(env, bound_port, &value);
  napi_set_named_property(env, result, "port", value);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_socket, s, &fn);
  napi_set_named_property(env, result, "close", fn);
  napi_create_function(env, "dropped", NAPI_AUTO_LENGTH, dropped_sends, s, &fn);
  napi_set_named_property(env, result, "dropped", fn);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_batch, s, &fn);
  napi_set_named_property(env, result, "send", fn);
  napi_add_finalizer(env, result, s, on_finalized, NULL, NULL);
  return result;
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  batch_socket *s;
  napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&s);
  if (s && !s->closing) {
    s->closing = 1;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_closed);
  }
  return NULL;
}

static napi_value dropped_sends(napi_env env, napi_callback_info info) {
  batch_socket *s;
  napi_value result;
  napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&s);
  napi_create_double(env, s ? s->dropped_sends : 0, &result);
  return result;
}

/*
 * send(messages: Buffer[], host: string, port: number) -> number: sends up to BATCH messages to one address with
 * one sendmmsg call and returns how many the kernel took (fewer when its send buffer is full: the caller keeps the
 * rest for later). Throws on a closed socket or a bad address.
 */
static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  batch_socket *s;
  napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&s);
  if (!s || s->closing || argc < 3) {
    napi_throw_error(env, "DNS_RESOLVER_UNAVAILABLE", "send on a closed socket");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN];
  size_t host_len;
  int32_t port;
  uint32_t count;
  napi_get_value_string_utf8(env, argv[1], host, sizeof host, &host_len);
  napi_get_value_int32(env, argv[2], &port);
  napi_get_array_length(env, argv[0], &count);
  if (count > BATCH) count = BATCH;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  memset(&addr, 0, sizeof addr);
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
  struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    addr_len = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    addr_len = sizeof *a6;
  } else {
    napi_throw_error(env, "USAGE", "not an IP address");
    return NULL;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    bool is_buffer = false;
    if (napi_get_element(env, argv[0], i, &item) != napi_ok) break;
    napi_is_buffer(env, item, &is_buffer);
    if (!is_buffer) break;
    void *data;
    size_t len;
    napi_get_buffer_info(env, item, &data, &len);
    s->out_iov[n].iov_base = data;
    s->out_iov[n].iov_len = len;
    memset(&s->out[n].msg_hdr, 0, sizeof s->out[n].msg_hdr);
    s->out[n].msg_hdr.msg_name = &addr;
    s->out[n].msg_hdr.msg_namelen = addr_len;
    s->out[n].msg_hdr.msg_iov = &s->out_iov[n];
    s->out[n].msg_hdr.msg_iovlen = 1;
    n++;
  }
  uint32_t sent = 0;
  while (sent < n) {
    int r = sendmmsg(s->fd, s->out + sent, n - sent, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
      /* Any other error (unreachable network...) is this datagram's: count it as taken, its query times out. */
      s->dropped_sends++;
      sent++;
      continue;
    }
    sent += (uint32_t)r;
  }
  napi_value result;
  napi_create_uint32(env, sent, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_socket, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  return exports;
}
