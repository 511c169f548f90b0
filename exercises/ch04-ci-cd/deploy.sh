#!/bin/sh
# The chapter's deploy step: `./deploy.sh IMAGE`. A stand-in for the real thing (chapter 5's
# rolling update, or `kubectl set image`): it checks what a deploy needs and says what it would do.
set -eu
image=${1:?usage: ./deploy.sh IMAGE}
if [ -z "${DEPLOY_TOKEN:-}" ]; then
  echo "deploy: DEPLOY_TOKEN is empty. The deploy job takes it from \${{ secrets.DEPLOY_TOKEN }};" >&2
  echo "        locally, pass it with: just pipeline --branch main --secret DEPLOY_TOKEN=…" >&2
  exit 1
fi
echo "deploy: rolling out $image (token ${DEPLOY_TOKEN%"${DEPLOY_TOKEN#???}"}…)"
echo "deploy: would now replace each instance, waiting for its readiness (chapter 5)"
