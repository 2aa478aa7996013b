// The official openai SDK pointed at autobatch's OpenAI-compatible /v1/embeddings.
// Many concurrent single-text calls, as independent clients would make: autobatch merges those
// that arrive together into one TEI call and gives each exactly its own embedding.
//
//   cd examples/node && npm install && npm start      # autobatch on http://localhost:3000
//   AUTOBATCH_URL=http://host:3000 npm start
import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: `${process.env.AUTOBATCH_URL ?? 'http://localhost:3000'}/v1`,
  apiKey: process.env.OPENAI_API_KEY ?? 'unused', // TEI without --api-key ignores it
});

const texts = Array.from({ length: 32 }, (_, i) => `search_document: note number ${i}`);

// withResponse() exposes the HTTP headers, where autobatch says how the call travelled.
const results = await Promise.all(texts.map((input) => client.embeddings.create({ model: 'nomic-ai/nomic-embed-text-v1.5', input }).withResponse()));

const batchSizes = results.map(({ response }) => Number(response.headers.get('x-autobatch-batch-size') ?? 1));
const { data: first } = results[0];
console.log(`${results.length} embeddings of ${first.data[0].embedding.length} dimensions`);
console.log(`largest upstream batch: ${Math.max(...batchSizes)} inputs; usage of the first call:`, first.usage);
