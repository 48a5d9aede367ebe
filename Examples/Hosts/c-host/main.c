/* A C host: creates a node, starts a named server, sends to it, steps the loop, reads the result. */
#include <stdio.h>
#include "otp.h"

int main(void) {
    otp_node_t *node = otp_node_create();
    if (otp_spawn_accumulator(node, "sum") != OTP_OK) return 1;
    if (otp_spawn_accumulator(node, "sum") != OTP_NAME_TAKEN) return 2;
    for (int64_t i = 1; i <= 10; i++) {
        if (otp_send_int(node, "sum", i) != OTP_OK) return 3;
    }
    if (otp_send_int(node, "nobody", 1) != OTP_UNKNOWN_NAME) return 4;
    while (otp_node_run_once(node, 0)) { }
    int64_t total = 0;
    if (otp_accumulator_total(node, "sum", &total) != OTP_OK) return 5;
    printf("c-host: total of 1..10 is %lld\n", (long long)total);
    int32_t closed = otp_node_destroy(node);
    printf("c-host: node closed, uv_loop_close returned %d\n", closed);
    return total == 55 && closed == 0 ? 0 : 6;
}
