#!/usr/bin/env python3
"""Writes the SMS webhook fixtures: API Gateway HTTP API (payload 2.0) events
carrying a Twilio-compatible form body, signed as the provider signs them
(HMAC-SHA1, or HMAC-SHA256 when the settings header says so) with the
fixtures' auth token over the fixtures' public URL; and (eum-*) the SNS
events AWS End User Messaging's two-way SMS sends. Run it again after
changing a fixture's fields: python3 events/sms/make_fixtures.py"""

import base64, hashlib, hmac, json, pathlib, urllib.parse

TOKEN = "fixture-auth-token"
URL = "https://311.krakow.example/v1/channels/sms"
ACCOUNT = "AC0fixture0000000000000000000000000"
CITY_NUMBER = "+48120000311"

def sign(params, algorithm="sha1"):
    text = URL + "".join(k + v for k, v in sorted(params))
    digest = hashlib.sha256 if algorithm == "sha256" else hashlib.sha1
    return base64.b64encode(hmac.new(TOKEN.encode(), text.encode(), digest).digest()).decode()

def event(params, signature=True, algorithm="sha1", extra_headers=None):
    body = urllib.parse.urlencode(params)
    headers = {
        "host": "311.krakow.example",
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": "TwilioProxy/1.1",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
        "i-twilio-idempotency-token": params[0][1] + "-token",
    }
    if signature:
        headers["x-twilio-signature"] = sign(params, algorithm)
    if algorithm == "sha256":
        headers["x-twilio-webhooks-signature-settings"] = "key=current,algorithm=HMAC_SHA256"
    headers.update(extra_headers or {})
    return {
        "version": "2.0",
        "routeKey": "POST /v1/channels/sms",
        "rawPath": "/v1/channels/sms",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123",
            "domainName": "311.krakow.example", "domainPrefix": "311",
            "http": {"method": "POST", "path": "/v1/channels/sms", "protocol": "HTTP/1.1",
                     "sourceIp": "54.172.60.0", "userAgent": "TwilioProxy/1.1"},
            "requestId": "Tw1l" + params[0][1][-8:], "routeKey": "POST /v1/channels/sms",
            "stage": "$default", "time": "04/Dec/2026:18:00:00 +0000", "timeEpoch": 1796407200000,
        },
        # API Gateway passes a form body base64-encoded.
        "isBase64Encoded": True,
        "body": base64.b64encode(body.encode()).decode(),
    }

def sms(sid, sender, body, **more):
    params = [("MessageSid", sid), ("SmsMessageSid", sid), ("AccountSid", ACCOUNT),
              ("MessagingServiceSid", "MG0fixture0000000000000000000000000"),
              ("From", sender), ("To", CITY_NUMBER), ("Body", body),
              ("NumSegments", more.pop("segments", "1")), ("NumMedia", more.pop("media", "0")),
              ("FromCity", "KRAKOW"), ("FromCountry", "PL"), ("ApiVersion", "2010-04-01")]
    params += list(more.items())
    return params

LONG = ("Dzień dobry, na skrzyżowaniu przy szkole od tygodnia jest ogromna dziura w jezdni, "
        "samochody gwałtownie hamują, a wczoraj rowerzysta się przewrócił. Proszę o pilną naprawę, "
        "zanim ktoś zrobi sobie krzywdę. Żółte znaki ostrzegawcze też zniknęły.")

FIXTURES = {
    "sms-report-without-place.json": event(sms("SM0fixture00000000000000000000001", "+48600100200", LONG, segments="3")),
    "sms-place-answer.json": event(sms("SM0fixture00000000000000000000002", "+48600100200", "ul. Długa 10")),
    "sms-status.json": event(sms("SM0fixture00000000000000000000003", "+48600100200", "status 7h3k-9qx2")),
    "sms-stop.json": event(sms("SM0fixture00000000000000000000004", "+48600100200", "REZYGNUJĘ")),
    "sms-sha256.json": event(sms("SM0fixture00000000000000000000005", "+48600100201",
                                 "The street light is out in front of ul. Długa 20"), algorithm="sha256"),
    "whatsapp-report.json": event(sms("SM0fixture00000000000000000000006", "whatsapp:+48600100300",
                                      "Powalone drzewo blokuje chodnik", ProfileName="Anna", WaId="48600100300")),
    "whatsapp-location.json": event(sms("SM0fixture00000000000000000000007", "whatsapp:+48600100300", "",
                                        Latitude="50.0614", Longitude="19.9366", ProfileName="Anna",
                                        WaId="48600100300")),
    "sms-unsigned.json": event(sms("SM0fixture00000000000000000000008", "+48600100200", "Dziura"), signature=False),
}

# AWS End User Messaging two-way SMS: the SNS event Lambda receives, whose
# Message is the inbound text as a JSON string of its own.
TOPIC = "arn:aws:sns:eu-central-1:123456789012:citydesk-InboundSmsTopic-1A2B3C4D5E6F"

def end_user_messaging(sns_id, inbound_id, sender, body, topic=TOPIC, message=None):
    text = message if message is not None else json.dumps({
        "originationNumber": sender, "destinationNumber": CITY_NUMBER,
        "messageKeyword": "KEYWORD_123456789012", "messageBody": body,
        "inboundMessageId": inbound_id, "previousPublishedMessageId": "wJ0xYd6adudNnyfFLQ3qzG3i9hS7Q0Xd",
    }, ensure_ascii=False)
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": topic + ":2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        "Sns": {
            "Type": "Notification", "MessageId": sns_id, "TopicArn": topic, "Subject": None,
            "Message": text, "Timestamp": "2026-12-04T18:00:00.000Z", "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+fixture==",
            "SigningCertUrl": "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
            "UnsubscribeUrl": "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topic,
            "MessageAttributes": {},
        },
    }]}

FIXTURES.update({
    "eum-report.json": end_user_messaging("95df01b4-ee98-5cb9-9903-4c221d41eb5e", "cae173d2-66b9-564c-8309-21f858e9fb84",
                                          "+48600100400", "Dziura w jezdni przy ul. Długa 10, głęboka na dłoń"),
    "eum-status.json": end_user_messaging("95df01b4-ee98-5cb9-9903-4c221d41eb5f", "cae173d2-66b9-564c-8309-21f858e9fb85",
                                          "+48600100400", "STATUS"),
    "eum-other-topic.json": end_user_messaging("95df01b4-ee98-5cb9-9903-4c221d41eb60", "cae173d2-66b9-564c-8309-21f858e9fb86",
                                               "+48600100400", "Dziura", topic="arn:aws:sns:eu-central-1:999999999999:elsewhere"),
    "eum-not-a-text.json": end_user_messaging("95df01b4-ee98-5cb9-9903-4c221d41eb61", "", "", "",
                                              message='{"notificationType":"DeliveryReceipt"}'),
})

here = pathlib.Path(__file__).parent
for name, fixture in FIXTURES.items():
    (here / name).write_text(json.dumps(fixture, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
print(f"wrote {len(FIXTURES)} fixtures to {here}")
