#!/usr/bin/env python3
"""Sets up, in a moto prepared by moto_setup.py, what `moat watch` reads: an SQS queue with a
dead-letter queue (redrive after 3 receives) and the flow-log bucket's notification of new
`.log.gz` objects to it. Uses AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment.
Prints {"queue_url", "dlq_url"} as JSON. Usage: moto_queue.py ENDPOINT BUCKET"""
import json
import os
import sys

import boto3


def main():
    endpoint, bucket = sys.argv[1], sys.argv[2]
    common = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
    sqs = boto3.client("sqs", **common)
    dlq = sqs.create_queue(QueueName="moat-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="moat-events", Attributes={
        "VisibilityTimeout": "30",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3 = boto3.client("s3", **common)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".log.gz"}]}}}]})
    print(json.dumps({"queue_url": queue, "dlq_url": dlq}))


if __name__ == "__main__":
    main()
