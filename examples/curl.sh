#!/bin/sh
# Requests through autobatch with curl. Each is an ordinary TEI (or OpenAI) request: autobatch
# merges it with other clients' requests and hands back exactly this request's answer.
#   sh examples/curl.sh                          # autobatch on http://localhost:3000
#   AUTOBATCH_URL=http://host:3000 sh examples/curl.sh
set -eu
URL="${AUTOBATCH_URL:-http://localhost:3000}"
JSON='content-type: application/json'

echo '== TEI /embed, one input (answer: a list holding one vector)'
curl -fsS "$URL/embed" -H "$JSON" -d '{"inputs": "What is deep learning?"}' | head -c 200; echo ' ...'

echo '== TEI /embed, several inputs and options (options must match to share a batch)'
curl -fsS "$URL/embed" -H "$JSON" -d '{"inputs": ["first text", "second text"], "normalize": true, "truncate": true}' | head -c 200; echo ' ...'

echo '== how this request travelled: x-autobatch-batch-size (inputs in its upstream call), x-autobatch-queue-ms'
curl -fsS -o /dev/null -D - "$URL/embed" -H "$JSON" -d '{"inputs": "hello"}' | grep -i '^x-autobatch'

echo '== OpenAI-compatible /v1/embeddings (model is passed along; TEI serves the model it loaded)'
curl -fsS "$URL/v1/embeddings" -H "$JSON" -d '{"model": "nomic-ai/nomic-embed-text-v1.5", "input": ["hello", "world"]}' | head -c 200; echo ' ...'

echo '== TEI /predict: needs a classification model in TEI (e.g. SamLowe/roberta-base-go_emotions);'
echo '   an embedding model answers TEI'"'"'s own error, passed through unchanged'
curl -sS -w ' (HTTP %{http_code})\n' "$URL/predict" -H "$JSON" -d '{"inputs": "I like you. I love you."}'

echo '== autobatch itself: liveness, readiness (TEI answers /health), Prometheus metrics'
curl -fsS -w ' (HTTP %{http_code})\n' "$URL/autobatch/health"
curl -sS -w ' (HTTP %{http_code})\n' "$URL/autobatch/ready"
curl -fsS "$URL/autobatch/metrics" | grep '^autobatch_' | head -n 5
