"""The local AWS-API emulator: moto's server, with DynamoDB transactions made
atomic, isolated and cheap.

moto answers each HTTP request on its own thread, and its TransactWriteItems
is neither isolated nor cheap: it deep-copies every table it touches (all
items and every stream record ever written) before it starts and, when any
condition fails, puts that copy back, wiping whatever other threads wrote
meanwhile; a read in between sees half a transaction. The pipeline's
conditional writes rely on DynamoDB being serialisable per item, and the copy
makes each transaction slower the longer a test runs.

Here:
- every DynamoDB and DynamoDB Streams call takes one lock, so a transaction
  runs alone, as DynamoDB's appear to (the other services, SQS long polls
  above all, stay concurrent);
- a transaction no longer copies tables: it notes the items it names (a
  transaction names each key it writes) and the stream's length, and when it
  fails puts those items back and drops the stream records it added.

Calls that wait or run longer than SLOW_S are logged, as the emulator's own
limits are what a slow local test usually meets.

Usage: python infra/local/moto_server.py -H 127.0.0.1 -p PORT (moto_server's arguments)
"""

import copy
import sys
import threading
import time

from moto import server
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

SLOW_S = 1.0

_one_table_call_at_a_time = threading.RLock()


def _serialised(call_action):
    def call_action_alone(self):
        asked = time.monotonic()
        with _one_table_call_at_a_time:
            began = time.monotonic()
            try:
                return call_action(self)
            finally:
                done = time.monotonic()
                if done - asked > SLOW_S:
                    target = self.headers.get("X-Amz-Target", "?")
                    print(
                        f"slow table call {target}: waited {began - asked:.2f} s, ran {done - began:.2f} s",
                        file=sys.stderr,
                        flush=True,
                    )

    return call_action_alone


class _CopyButNotTables:
    """Stands in for the `copy` module inside moto.dynamodb.models: a table's
    "backup" is the table itself, as the undo below restores what changed."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _key_of(backend, entry):
    """(table, hash value, range value, the item there now) a transaction
    entry writes, or None when moto's own validation is to answer it."""
    try:
        op_type, op = next(iter(entry.items()))
        table = backend.tables[op["TableName"]]
        key = op["Item"] if op_type == "Put" else op["Key"]
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_value, range_value)
    except Exception:  # noqa: BLE001 malformed entries are moto's to refuse
        return None
    return table, hash_value, range_value, current


def _undo(table, hash_value, range_value, previous):
    if range_value is None:
        if previous is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = previous
    elif previous is None:
        table.items[hash_value].pop(range_value, None)
    else:
        table.items[hash_value][range_value] = previous


_transact_write_items = DynamoDBBackend.transact_write_items


def transact_write_items_with_undo(self, transact_items):
    undo = []
    streams = {}
    for entry in transact_items:
        key = _key_of(self, entry)
        if key is None:
            continue
        table, hash_value, range_value, current = key
        undo.append((table, hash_value, range_value, copy.deepcopy(current)))
        if table.stream_shard is not None:
            streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for table, hash_value, range_value, previous in reversed(undo):
            _undo(table, hash_value, range_value, previous)
        for shard, length in streams.values():
            del shard.items[length:]
        raise


DynamoHandler.call_action = _serialised(DynamoHandler.call_action)
DynamoDBStreamsHandler.call_action = _serialised(DynamoDBStreamsHandler.call_action)
dynamodb_models.copy = _CopyButNotTables()
DynamoDBBackend.transact_write_items = transact_write_items_with_undo

if __name__ == "__main__":
    server.main(sys.argv[1:])
