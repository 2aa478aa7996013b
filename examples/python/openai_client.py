"""The official `openai` client pointed at autobatch's OpenAI-compatible /v1/embeddings.

TEI serves the model it was started with; the `model` name is passed along and not used to
choose. The client asks for base64 vectors and decodes them itself: autobatch batches those too.

    pip install -r examples/python/requirements.txt
    python examples/python/openai_client.py               # autobatch on http://localhost:3000
"""

import os

from openai import OpenAI

client = OpenAI(
    base_url=os.environ.get("AUTOBATCH_URL", "http://localhost:3000") + "/v1",
    api_key=os.environ.get("OPENAI_API_KEY", "unused"),  # TEI without --api-key ignores it
)

result = client.embeddings.create(
    model="nomic-ai/nomic-embed-text-v1.5",
    input=["search_query: what is autobatch?", "search_document: an auto-batching proxy"],
)
for item in result.data:
    print(item.index, len(item.embedding), item.embedding[:3])
print("usage:", result.usage)
