"""The otpylib side of `make compare`: call, cast and start, measured from inside an otpylib process.

Prints one JSON object like the other systems: {"workload": {"unit": ..., "value": ...}}.
Usage: python otpylib_bench.py [--quick]
"""
import asyncio
import json
import sys
import time

from otpylib import gen_server, process
from otpylib.module import GEN_SERVER, OTPModule
from otpylib.runtime import set_runtime
from otpylib.runtime.backends.asyncio_backend.backend import AsyncIOBackend


class Counter(metaclass=OTPModule, behavior=GEN_SERVER, version="1.0.0"):
    async def init(self, arg):
        return 0

    async def handle_call(self, message, caller, state):
        return (gen_server.Reply(payload=state), state)

    async def handle_cast(self, message, state):
        return (gen_server.NoReply(), state + 1)

    async def handle_info(self, message, state):
        return (gen_server.NoReply(), state)

    async def terminate(self, reason, state):
        pass


async def workloads(scale, results, done):
    try:
        await measure(scale, results)
        done.set_result(True)
    except Exception as error:  # otpylib swallows failures inside processes: report it
        done.set_exception(error)


async def measure(scale, results):
    n_calls, n_casts, n_starts = 20000 // scale, 100000 // scale, 10000 // scale
    # otpylib 0.5.18 only finds servers by registered name (a call by pid fails).
    server = "counter"
    await gen_server.start(Counter, None, name=server)
    t0 = time.perf_counter_ns()
    for _ in range(n_calls):
        await gen_server.call(server, "get")
    results["call_round_trip"] = {"unit": "ns/call", "value": (time.perf_counter_ns() - t0) / n_calls}
    t0 = time.perf_counter_ns()
    for _ in range(n_casts):
        await gen_server.cast(server, ("add", 1))
    await gen_server.call(server, "get", timeout=60.0)
    results["cast"] = {"unit": "ns/cast", "value": (time.perf_counter_ns() - t0) / n_casts}
    t0 = time.perf_counter_ns()
    for _ in range(n_starts):
        await gen_server.start(Counter, None)
    results["genserver_start"] = {"unit": "ns/server", "value": (time.perf_counter_ns() - t0) / n_starts}


async def main():
    scale = 10 if "--quick" in sys.argv else 1
    backend = AsyncIOBackend()
    set_runtime(backend)
    await backend.initialize()
    results = {}
    done = asyncio.get_running_loop().create_future()
    await process.spawn(workloads, args=[scale, results, done], mailbox=True)
    await asyncio.wait_for(done, timeout=600)
    print(json.dumps(results))
    await backend.shutdown()


asyncio.run(main())
