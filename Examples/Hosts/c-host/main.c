/* A C host: a libuv program with its own timer and TCP sockets, and a swift-otp node attached to its loop.
 *
 * The node runs a process written in C ("upper": answers a call with the request in capitals, counts plain
 * messages). The host's TCP server hands each line it reads to that process with otp_call and writes the
 * reply back; the host's client prints it. The host's timer sends the process a plain message. All of it
 * runs in the host's uv_run, on one thread. Then the same process on a node with a loop of its own,
 * stepped by the host (otp_node_run_once).
 *
 * Build: the top-level CMakeLists.txt (target otp-c-host), or this folder's CMakeLists.txt against an
 * installed swift-otp (find_package(SwiftOTP)). Run: it prints what happened and exits 0 when all of it did.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "otp.h"

static int failures = 0;
#define CHECK(cond, what) do { if (!(cond)) { fprintf(stderr, "c-host: FAILED: %s\n", what); failures++; } } while (0)

/* ---- the process written in C ---- */

typedef struct { int messages; } upper_state;

static void upper(void *context, otp_node_t *node, const void *data, size_t size, otp_caller_t *caller) {
    upper_state *state = context;
    if (caller == NULL) {  /* a plain message */
        state->messages++;
        return;
    }
    char reply[256];
    size_t n = size < sizeof reply ? size : sizeof reply;
    for (size_t i = 0; i < n; i++) reply[i] = (char)toupper(((const unsigned char *)data)[i]);
    otp_reply(node, caller, reply, n);
}

/* ---- the host's own sockets and timer ---- */

static otp_node_t *node;
static uv_tcp_t server, accepted, client;
static uv_timer_t timer;
static uv_connect_t connecting;
static char answer[256];
static int unknown_status = -1;

static void alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
    (void)handle;
    buf->base = malloc(suggested);
    buf->len = suggested;
}

static void written(uv_write_t *request, int status) {
    CHECK(status == 0, "a socket write");
    free(request->data);
    free(request);
}

static void write_bytes(uv_stream_t *stream, const void *data, size_t size) {
    uv_write_t *request = malloc(sizeof *request);
    char *copy = malloc(size);
    memcpy(copy, data, size);
    request->data = copy;
    uv_buf_t buf = uv_buf_init(copy, (unsigned)size);
    uv_write(request, stream, &buf, 1, written);
}

/* The node's answer to a line the server read: written back to the peer. */
static void replied(void *context, int32_t status, const void *reply, size_t size) {
    CHECK(status == OTP_OK, "otp_call of upper");
    if (status == OTP_OK) write_bytes((uv_stream_t *)context, reply, size);
}

static void unknown_replied(void *context, int32_t status, const void *reply, size_t size) {
    (void)context, (void)reply, (void)size;
    unknown_status = status;
}

static void server_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
    if (nread > 0) {
        CHECK(otp_call(node, "upper", buf->base, (size_t)nread, 1000, replied, stream) == OTP_OK, "otp_call");
    } else if (nread < 0) {
        uv_close((uv_handle_t *)stream, NULL);
    }
    free(buf->base);
}

static void connection(uv_stream_t *listener, int status) {
    CHECK(status == 0, "accept");
    uv_tcp_init(listener->loop, &accepted);
    uv_accept(listener, (uv_stream_t *)&accepted);
    uv_read_start((uv_stream_t *)&accepted, alloc, server_read);
}

static void client_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
    if (nread > 0) {
        size_t n = (size_t)nread < sizeof answer - 1 ? (size_t)nread : sizeof answer - 1;
        memcpy(answer, buf->base, n);
        answer[n] = 0;
        uv_close((uv_handle_t *)stream, NULL);   /* the peer's read then ends: the server side closes */
        uv_close((uv_handle_t *)&server, NULL);
    }
    free(buf->base);
}

static void connected(uv_connect_t *request, int status) {
    CHECK(status == 0, "connect");
    uv_read_start(request->handle, alloc, client_read);
    write_bytes(request->handle, "hello from a socket", 19);
}

static void tick(uv_timer_t *handle) {
    CHECK(otp_send(node, "upper", "tick", 4) == OTP_OK, "otp_send from the host's timer");
    CHECK(otp_call(node, "nobody", "?", 1, 100, unknown_replied, NULL) == OTP_OK, "otp_call to nobody");
    uv_close((uv_handle_t *)handle, NULL);
}

static int attached(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    node = otp_node_attach(&loop);
    upper_state state = {0};
    CHECK(otp_register_process(node, "upper", upper, &state) == OTP_OK, "otp_register_process");
    CHECK(otp_register_process(node, "upper", upper, &state) == OTP_NAME_TAKEN, "a taken name is refused");
    CHECK(otp_send(node, "nobody", "x", 1) == OTP_UNKNOWN_NAME, "otp_send to nobody");

    struct sockaddr_in address;
    uv_ip4_addr("127.0.0.1", 0, &address);
    uv_tcp_init(&loop, &server);
    uv_tcp_bind(&server, (const struct sockaddr *)&address, 0);
    CHECK(uv_listen((uv_stream_t *)&server, 8, connection) == 0, "listen on 127.0.0.1");
    struct sockaddr_storage bound;
    int length = sizeof bound;
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &length);
    uv_tcp_init(&loop, &client);
    uv_tcp_connect(&connecting, &client, (const struct sockaddr *)&bound, connected);
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, tick, 10, 0);

    uv_run(&loop, UV_RUN_DEFAULT);  /* the host's loop: its sockets, its timer, and the node */
    printf("c-host: over TCP the node answered \"%s\"\n", answer);
    printf("c-host: the host's timer reached the C process (%d message), a call to nobody got %d\n",
           state.messages, unknown_status);
    CHECK(strcmp(answer, "HELLO FROM A SOCKET") == 0, "the answer");
    CHECK(state.messages == 1 && unknown_status == OTP_UNKNOWN_NAME, "the timer's message and the unknown name");

    CHECK(otp_node_detach(node) == OTP_OK, "otp_node_detach");
    uv_run(&loop, UV_RUN_DEFAULT);  /* the node's handles finish closing */
    int closed = uv_loop_close(&loop);
    printf("c-host: node detached, the host's uv_loop_close returned %d\n", closed);
    return closed;
}

/* ---- a node with a loop of its own, stepped by the host ---- */

static char own_answer[64];

static void own_replied(void *context, int32_t status, const void *reply, size_t size) {
    (void)context;
    CHECK(status == OTP_OK && size < sizeof own_answer, "otp_call on a node of its own");
    memcpy(own_answer, reply, size);
    own_answer[size] = 0;
}

static int own_loop(void) {
    otp_node_t *own = otp_node_create();
    upper_state state = {0};
    CHECK(otp_register_process(own, "upper", upper, &state) == OTP_OK, "register on a node of its own");
    CHECK(otp_node_backend_fd(own) >= 0, "a backend fd to poll");
    CHECK(otp_call(own, "upper", "stepped", 7, -1, own_replied, NULL) == OTP_OK, "otp_call");
    CHECK(otp_call(own, "upper", "x", 1, -5, own_replied, NULL) == OTP_INVALID, "a negative timeout");
    while (own_answer[0] == 0 && otp_node_run_once(own, 0)) { }
    printf("c-host: a node with its own loop answered \"%s\"\n", own_answer);
    CHECK(strcmp(own_answer, "STEPPED") == 0, "the stepped answer");
    CHECK(otp_unregister_process(own, "upper") == OTP_OK, "otp_unregister_process");
    while (otp_node_run_once(own, 0)) { }
    return otp_node_destroy(own);
}

int main(void) {
    int attached_closed = attached();
    int own_closed = own_loop();
    printf("c-host: done (%d failures)\n", failures);
    return failures == 0 && attached_closed == 0 && own_closed == 0 ? 0 : 1;
}
