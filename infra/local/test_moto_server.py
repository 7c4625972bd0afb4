"""moto_server.py's transactions: a failed one leaves no trace (items and
stream), a successful one is whole, concurrent ones lose nothing.

Run: .venv/bin/python -m unittest discover -s infra/local -p 'test_*.py'
"""

import threading
import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

import moto_server  # noqa: F401  (patches moto as the local server runs it)

REGION = "eu-central-1"


def table_with_stream(client):
    client.create_table(
        TableName="desk",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def put(pk, sk, condition=None, **attrs):
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"N": str(v)} for k, v in attrs.items()}}
    op = {"TableName": "desk", "Item": item}
    if condition:
        op["ConditionExpression"] = condition
    return {"Put": op}


def stream_records(session):
    streams = session.client("dynamodbstreams", region_name=REGION)
    arn = streams.list_streams(TableName="desk")["Streams"][0]["StreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return streams.get_records(ShardIterator=it)["Records"]


@mock_aws
class Transactions(unittest.TestCase):
    def setUp(self):
        self.session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test")
        self.db = self.session.client("dynamodb", region_name=REGION)
        table_with_stream(self.db)
        self.db.put_item(TableName="desk", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})

    def item(self, pk, sk):
        return self.db.get_item(TableName="desk", Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")

    def test_a_failed_transaction_leaves_items_and_stream_as_they_were(self):
        before = len(stream_records(self.session))
        update = {
            "Update": {
                "TableName": "desk",
                "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                "UpdateExpression": "SET n = :two",
                "ExpressionAttributeValues": {":two": {"N": "2"}},
            }
        }
        failing = put("a", "1b", condition="attribute_exists(pk)", n=9)
        with self.assertRaises(ClientError) as caught:
            self.db.transact_write_items(TransactItems=[put("b", "1", n=1), update, failing, put("c", "1", n=1)])
        self.assertEqual(caught.exception.response["Error"]["Code"], "TransactionCanceledException")
        self.assertIsNone(self.item("b", "1"))
        self.assertIsNone(self.item("c", "1"))
        self.assertEqual(self.item("a", "1")["n"], {"N": "1"})
        self.assertEqual(len(stream_records(self.session)), before)

    def test_a_successful_transaction_is_whole_and_streamed(self):
        before = len(stream_records(self.session))
        self.db.transact_write_items(TransactItems=[
            put("b", "1", n=1),
            {
                "Put": {
                    "TableName": "desk",
                    "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "2"}},
                    "ConditionExpression": "n = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ])
        self.assertEqual(self.item("b", "1")["n"], {"N": "1"})
        self.assertEqual(self.item("a", "1")["n"], {"N": "2"})
        self.assertEqual(len(stream_records(self.session)), before + 2)

    def test_concurrent_optimistic_increments_lose_nothing(self):
        threads, rounds = 4, 15

        def increment():
            db = self.session.client("dynamodb", region_name=REGION)
            for _ in range(rounds):
                while True:
                    n = int(db.get_item(TableName="desk", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ConsistentRead=True)["Item"]["n"]["N"])
                    try:
                        db.transact_write_items(
                            TransactItems=[
                                {
                                    "Put": {
                                        "TableName": "desk",
                                        "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": str(n + 1)}},
                                        "ConditionExpression": "n = :seen",
                                        "ExpressionAttributeValues": {":seen": {"N": str(n)}},
                                    }
                                },
                                put("log", f"{n + 1}", condition="attribute_not_exists(pk)", n=n + 1),
                            ]
                        )
                        break
                    except ClientError as e:
                        if e.response["Error"]["Code"] != "TransactionCanceledException":
                            raise

        workers = [threading.Thread(target=increment) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.assertEqual(self.item("a", "1")["n"], {"N": str(1 + threads * rounds)})
        log = self.db.query(
            TableName="desk", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "log"}}
        )["Items"]
        self.assertEqual(len(log), threads * rounds)


if __name__ == "__main__":
    unittest.main()
