"""A Spin Python SDK component that drives key-value through HTTP.

Routes (the path after the component's route):
  GET|PUT|DELETE /kv/KEY   Spin key-value (fermyon:spin/key-value@2.0.0) on the default store
  GET /keys                every key in the default store, one per line
  GET /open/LABEL          opens LABEL and names the error, if any
  POST /incr/KEY?by=N      wasi:keyvalue atomics.increment
  POST /cas/KEY            wasi:keyvalue compare-and-swap of KEY to the body
  POST /batch              wasi:keyvalue set-many, get-many and delete-many
"""

from urllib.parse import urlparse, parse_qs

from spin_sdk import http, key_value
from spin_sdk.http import Request, Response
from spin_sdk.wit.imports import atomics, batch, wasi_keyvalue_store
from spin_sdk.wit.types import Err


def text(status: int, body: str) -> Response:
    return Response(status, {"content-type": "text/plain"}, body.encode())


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        url = urlparse(request.uri)
        parts = url.path.strip("/").split("/", 1)
        route, arg = parts[0], (parts[1] if len(parts) > 1 else "")
        query = parse_qs(url.query)

        if route == "kv":
            with key_value.open_default() as store:
                if request.method == "GET":
                    value = store.get(arg)
                    if value is None:
                        return text(404, "no such key")
                    return Response(200, {}, value)
                if request.method == "PUT":
                    store.set(arg, request.body or b"")
                    return text(200, "stored")
                if request.method == "DELETE":
                    store.delete(arg)
                    return text(200, "deleted")
        if route == "keys":
            with key_value.open_default() as store:
                return text(200, "\n".join(sorted(store.get_keys())))
        if route == "open":
            try:
                key_value.open(arg)
                return text(200, "opened")
            except Err as e:
                return text(403, type(e.value).__name__)
        if route == "incr":
            bucket = wasi_keyvalue_store.open("default")
            delta = int(query.get("by", ["1"])[0])
            return text(200, str(atomics.increment(bucket, arg, delta)))
        if route == "cas":
            bucket = wasi_keyvalue_store.open("default")
            cas = atomics.Cas.new(bucket, arg)
            before = cas.current()
            atomics.swap(cas, request.body or b"")
            return text(200, "swapped from " + (before or b"nothing").decode())
        if route == "batch":
            bucket = wasi_keyvalue_store.open("default")
            batch.set_many(bucket, [("batch-a", b"1"), ("batch-b", b"2")])
            got = batch.get_many(bucket, ["batch-a", "batch-b", "batch-c"])
            batch.delete_many(bucket, ["batch-a"])
            listed = ",".join(f"{k}={v.decode() if v is not None else '-'}" for k, v in got)
            return text(200, listed + " exists-after-delete=" + str(bucket.exists("batch-a")))
        return text(404, "no route")
