#!/usr/bin/env python3
"""Drives the local system's Open311 surface with the PyPI client `georeport`,
in JSON and in XML, the way a city dashboard would.

Usage: georeport_client.py --base URL --jurisdiction ID --pothole CASE --tree CASE
Exits non-zero with the failed check when the server does not behave.
"""
import argparse
import datetime
import sys

from georeport import GeoReport


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def as_list(value):
    # xmltodict gives a dict for one child element and a list for several.
    return value if isinstance(value, list) else [value]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--jurisdiction", required=True)
    p.add_argument("--pothole", required=True, help="case number of a pothole request")
    p.add_argument("--tree", required=True, help="case number of a fallen-tree request")
    args = p.parse_args()

    now = datetime.datetime.now(datetime.timezone.utc)
    start = (now - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    checks = 0
    for fmt in ("json", "xml"):
        client = GeoReport(args.base, jurisdiction=args.jurisdiction, output_format=fmt)

        services = as_list(client.get_service_list())
        codes = {s["service_code"] for s in services}
        check({"pothole", "fallen-tree", "noise"} <= codes, f"{fmt}: services list {sorted(codes)}")
        pothole = next(s for s in services if s["service_code"] == "pothole")
        check(str(pothole["metadata"]).lower() == "true", f"{fmt}: pothole has a definition")

        definition = client.get_service_definition("pothole")
        attributes = definition["attributes"]
        if fmt == "xml":
            attributes = as_list(attributes["attribute"])
        size = next(a for a in attributes if a["code"] == "size")
        check(size["datatype"] == "singlevaluelist", f"{fmt}: size datatype {size['datatype']}")
        values = size["values"] if fmt == "json" else as_list(size["values"]["value"])
        check([v["key"] for v in values] == ["small", "medium", "large"], f"{fmt}: size values {values}")

        everything = as_list(client.get_service_requests(start_date=start, end_date=end))
        ids = [r["service_request_id"] for r in everything]
        check(args.pothole in ids and args.tree in ids, f"{fmt}: both requests listed in {ids}")

        potholes = as_list(client.get_service_requests(service_code="pothole", status="open", start_date=start, end_date=end))
        ids = [r["service_request_id"] for r in potholes]
        check(args.pothole in ids and args.tree not in ids, f"{fmt}: service_code filter gave {ids}")

        both = as_list(client.get_service_requests(service_request_id=f"{args.pothole},{args.tree}"))
        check(sorted(r["service_request_id"] for r in both) == sorted([args.pothole, args.tree]), f"{fmt}: id list gave {both}")

        one = client.get_service_request(args.tree)
        check(one["service_request_id"] == args.tree and one["service_code"] == "fallen-tree", f"{fmt}: single request {one}")
        check(one["status"] in ("open", "closed"), f"{fmt}: status {one['status']}")
        checks += 7
    print(f"georeport: {checks} checks passed in json and xml")


if __name__ == "__main__":
    main()
