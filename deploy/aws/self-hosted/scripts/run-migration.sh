#!/usr/bin/env bash
# Runs the migration task once on Fargate and fails unless its container exits 0.
# Called by terraform (servers.tf, terraform_data.migration) with these variables set;
# needs the aws CLI. Waiting is bounded: `aws ecs wait tasks-stopped` gives up after
# 100 checks, 6 seconds apart.
set -euo pipefail
: "${REGION:?}" "${CLUSTER:?}" "${TASK_DEFINITION:?}" "${SUBNETS:?}" "${SECURITY_GROUP:?}" "${LOG_GROUP:?}"

task_arn="$(aws ecs run-task \
  --region "$REGION" \
  --cluster "$CLUSTER" \
  --task-definition "$TASK_DEFINITION" \
  --launch-type FARGATE \
  --count 1 \
  --network-configuration "awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' \
  --output text)"
if [ -z "$task_arn" ] || [ "$task_arn" = "None" ]; then
  echo "the migration task did not start (aws ecs run-task returned no task)" >&2
  exit 1
fi
echo "migration task started: $task_arn"

aws ecs wait tasks-stopped --region "$REGION" --cluster "$CLUSTER" --tasks "$task_arn"

exit_code="$(aws ecs describe-tasks --region "$REGION" --cluster "$CLUSTER" --tasks "$task_arn" \
  --query 'tasks[0].containers[0].exitCode' --output text)"
if [ "$exit_code" != "0" ]; then
  reason="$(aws ecs describe-tasks --region "$REGION" --cluster "$CLUSTER" --tasks "$task_arn" \
    --query 'tasks[0].stoppedReason' --output text)"
  echo "the migration task $task_arn ended with exit code $exit_code ($reason);" \
    "its log is in CloudWatch group $LOG_GROUP, stream prefix migrate" >&2
  exit 1
fi
echo "migration finished: $task_arn"
