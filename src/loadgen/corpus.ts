// The built-in texts the bench sends when no --texts file is given.
//
// Embedding servers spend their time in proportion to tokens, so a benchmark that sends one
// sentence over and over measures a best case nobody sees. This corpus mixes search-style
// queries (a few tokens), ordinary sentences (15 to 40 tokens) and paragraphs (150 to 300
// tokens), in several registers and a few scripts, so tokenizers and padding are exercised
// the way real traffic does. The order is fixed: target and baseline get the same sequence.

const QUERIES: readonly string[] = [
  'best hiking boots for wide feet',
  'how to reset a router',
  'symptoms of vitamin D deficiency',
  'cheap flights to Lisbon in March',
  'python list comprehension example',
  'why is the sky blue',
  'sourdough starter not rising',
  'return policy',
  'train times Zurich to Milan',
  'what is a mortgage offset account',
  'kubernetes pod stuck in pending',
  'replace bike chain',
  'vegetarian lasagna recipe',
  'capital of Australia',
  'refund not received',
  'how long do cats sleep',
  'difference between TCP and UDP',
  'invoice template',
  'noise cancelling headphones under 200',
  'tax deadline extension',
  'how to cite a website in APA',
  'side effects of ibuprofen',
  'electric car charging cost per mile',
  'git undo last commit',
  'weather tomorrow',
  'SQL join types explained',
  'best time to visit Kyoto',
  'how to unclog a drain',
  'change password',
  'is coffee bad for your heart',
  'rust borrow checker error',
  'growing tomatoes in pots',
  'café près de la gare',
  'wie spät ist es in Tokio',
  'receta de tortilla de patatas',
  '東京 おすすめ ラーメン',
  'order status',
  'meaning of serendipity',
  'how to write a cover letter',
  'solar panel efficiency',
  'marathon training plan for beginners',
  'account locked',
  'what causes inflation',
  'dog food allergies',
  'cancel subscription',
  'how to make cold brew',
  'photosynthesis steps',
  'laptop battery draining fast',
  'wedding speech ideas',
  'HTTP 429 too many requests',
  'how does a heat pump work',
  'track my parcel',
  'the history of the printing press',
  'remote jobs for translators',
  'how to remove red wine stains',
  'what is a p99 latency',
  'shipping to Canada',
  'best chess openings for beginners',
  'apartment lease renewal letter',
  'embedding model vs cross encoder',
  'why do leaves change colour',
  'upgrade plan',
  'convert celsius to fahrenheit',
  'how to apologise to a friend',
  'glacier national park lodging',
  'sore throat home remedies',
  'typescript generic constraints',
  'piano scales for kids',
  'delete my data',
  'how much water should I drink',
  'origin of the word quarantine',
  'how to fold a fitted sheet',
  'bike lanes in Copenhagen',
  'mobile app crashes on start',
  'volcano eruption today',
  'compound interest formula',
  'how to say thank you in Korean',
  'moving checklist',
  'opening hours on Sunday',
  'ok',
];

const SENTENCES: readonly string[] = [
  'The package was marked as delivered yesterday afternoon, but nothing was left at the door or with the neighbours.',
  'Preheat the oven to 200 degrees, then roast the vegetables for about forty minutes, turning them once halfway through.',
  'Our quarterly revenue grew by eleven percent, driven mostly by renewals from existing enterprise customers.',
  'The ferry to the island leaves every two hours in summer, and the crossing takes a little under fifty minutes.',
  'After the latest update the application freezes whenever I try to attach a file larger than ten megabytes.',
  'Mitochondria convert the energy stored in nutrients into a form the cell can use, which is why they are often called its power plants.',
  'She learned to play the cello at the age of six and gave her first public recital three years later.',
  'Please make sure the device is switched off and unplugged before you open the battery compartment.',
  'The museum is closed on Mondays, and tickets for the special exhibition must be booked at least a day in advance.',
  'Compound interest means that the interest you earn is added to the principal and itself begins to earn interest.',
  'The referee stopped the match in the second half because of heavy rain and lightning over the stadium.',
  'A good night of sleep improves memory, mood and concentration, while chronic sleep loss raises the risk of several illnesses.',
  'Cache invalidation is hard because every copy of the data must learn, at the right moment, that it has become stale.',
  'The hotel room was clean and quiet, although the breakfast buffet ran out of fresh fruit before nine o clock.',
  'Migratory birds use the Earth magnetic field, the position of the sun and even the smell of the landscape to find their way.',
  'I was charged twice for the same order and would like one of the payments to be refunded to my card.',
  'The committee will publish its recommendations next spring, after a public consultation that runs until the end of January.',
  'Knead the dough for ten minutes until it is smooth and elastic, then leave it covered in a warm place to rise.',
  'The new library building uses rainwater for its toilets and a ground source heat pump for heating in winter.',
  'When the load balancer marks a backend as unhealthy, it stops sending new connections there until the checks pass again.',
  'He missed the last train home and spent the night on a bench in the station waiting room.',
  'Regular stretching after exercise can reduce stiffness, although its effect on injury prevention is still debated.',
  'The contract may be terminated by either party with thirty days written notice, without stating a reason.',
  'Le marché du samedi matin propose des fromages locaux, du pain frais et des légumes cultivés dans la vallée.',
  'Die Wanderung dauert etwa vier Stunden und führt über einen steilen Pfad bis zur Hütte am Bergsee.',
  'La reunión se ha aplazado hasta el jueves porque dos de los ponentes no pudieron viajar a tiempo.',
  'この駅から空港までは電車で約四十分かかります。',
  'Vaccines train the immune system to recognise a pathogen without the person having to suffer the disease first.',
  'The spreadsheet adds up the monthly totals automatically, but the exchange rates must still be entered by hand.',
  'Our support team answers messages between eight in the morning and six in the evening, Monday to Friday.',
  'The bridge was designed to sway slightly in strong winds, which engineers say makes it safer rather than weaker.',
  'If the error persists, clear the browser cache, sign out, and sign in again before contacting support.',
  'The novel follows three generations of a fishing family on a small island off the northern coast.',
  'Tides are caused mainly by the gravitational pull of the moon, with a smaller contribution from the sun.',
  'The recipe calls for buttermilk, but plain yoghurt thinned with a little milk works almost as well.',
  'Latency percentiles describe the experience of the slowest requests, which averages tend to hide completely.',
  'The parking garage under the shopping centre is free for the first two hours on weekdays.',
  'A firmware update released last week fixes the bug that caused the thermostat to lose its schedule after a power cut.',
  'The orchestra rehearsed the symphony for weeks, yet the conductor changed the tempo of the final movement on the night.',
  'My flight was cancelled and the airline rebooked me on a connection that arrives eleven hours later.',
  'Honeybees communicate the direction and distance of flowers to each other through a waggle dance.',
  'The tenant is responsible for minor repairs, while the landlord must handle the roof, the walls and the heating.',
  'Batching requests amortises fixed per-call costs such as network round trips, parsing and kernel launches.',
  'The forecast predicts light snow in the mountains tonight and clear skies with strong winds tomorrow.',
  'The painting was lost during the war and rediscovered decades later in the attic of a farmhouse.',
  'To keep the soil moist in summer, water the plants early in the morning and cover the beds with mulch.',
  'The new model uses fewer parameters than its predecessor but scores higher on most retrieval benchmarks.',
  'I would like to change the delivery address for my order, which has not been shipped yet.',
  'A balanced diet includes plenty of vegetables, whole grains, legumes and a moderate amount of protein.',
  'The startup raised its first round of funding from a group of angel investors and a regional bank.',
  'The trail is closed after heavy rainfall because the river crossing becomes dangerous.',
  'Use a separate cutting board for raw meat to avoid spreading bacteria to food that will not be cooked.',
  'The database replicates every write to two other regions, so a single data centre failure loses nothing.',
  'She wrote the entire first draft of her thesis in a rented cabin without an internet connection.',
  'The children built a model volcano for the science fair using baking soda, vinegar and red food colouring.',
  'Customs may hold parcels containing batteries, perfume or food until the recipient provides more information.',
  'The city plans to plant ten thousand trees along its main streets to reduce summer temperatures.',
  'Your subscription renews automatically each year unless you turn off renewal in the account settings.',
  'The goalkeeper saved two penalties in the shoot-out and was carried off the pitch by his teammates.',
  'Interest rates were left unchanged, but the central bank signalled that a cut could come later in the year.',
  'The printer shows a paper jam error even though there is no paper stuck anywhere inside it.',
  'Medieval cathedrals took generations to build, and few of the original masons lived to see them finished.',
  'The app lets you split a restaurant bill between friends and settle up with a single tap.',
  'Allergy season starts earlier every year as warmer springs make trees release their pollen sooner.',
  'The lecture covers sorting algorithms, their worst-case running times and when each one is the right choice.',
  'Our office will be closed on the public holiday, and orders placed that day ship the following morning.',
  'The recipe serves four, but it can easily be doubled for a larger group.',
  'Glaciers in the Alps have lost more than half of their volume since the middle of the nineteenth century.',
  'The warranty covers manufacturing defects for two years but not damage caused by water or by a fall.',
  'A queue that grows without bound turns a short overload into a long outage for every user.',
  'The festival brings together street musicians, food stalls and craftspeople from all over the region.',
  'The doctor recommended rest, plenty of fluids and a follow-up appointment if the fever lasts more than three days.',
  'You can export your notes as plain text, Markdown or PDF from the menu in the top right corner.',
  'The volcano has been dormant for centuries, but scientists monitor it closely for signs of new activity.',
  'He replaced the worn brake pads himself, following a video tutorial and the service manual.',
  'The exhibition explores how maps have shaped the way people imagine distant places.',
  'Please note that the swimming pool will be closed for maintenance from the first to the fifteenth of next month.',
  'The translation keeps the rhythm of the original poem, even where it has to change individual words.',
  'Solar panels produce less power on cloudy days, but they still generate a useful share of their peak output.',
  'The tutorial explains how to set up a virtual environment and install the project dependencies.',
  'Our flat overlooks a small park where an old man feeds the pigeons every morning at seven.',
  'The insurance claim was rejected because the damage was reported more than sixty days after it happened.',
  'Octopuses can change both the colour and the texture of their skin in a fraction of a second.',
  'The airline allows one cabin bag and one personal item, such as a handbag or a laptop case.',
  'This chapter describes the causes of the financial crisis and the policies that followed it.',
  'The kettle switches itself off when the water boils or when it is lifted from its base.',
  'Engineers found that most of the slow requests were waiting in a queue rather than doing any work.',
  'The choir is looking for new tenors and basses; no audition is needed, just a love of singing.',
  'Open the valve slowly to let the air out of the radiator, and close it as soon as water appears.',
  'The story is told from the point of view of a dog who waits every day at the same train station.',
  'We recommend booking a table for dinner on weekends, as the restaurant is usually full by eight.',
  'The protein folds into its working shape within milliseconds, guided by the sequence of its amino acids.',
  'Several readers wrote in to point out an error in the chart published in yesterday edition.',
  'The bus route was changed to avoid the roadworks in the old town, adding about ten minutes to the journey.',
  'When you cancel within fourteen days of purchase, the full amount is refunded to the original payment method.',
  'The telescope can detect light from galaxies that formed less than a billion years after the Big Bang.',
  'His grandmother kept every letter she ever received in a wooden box tied with a blue ribbon.',
  'A token bucket lets short bursts through while keeping the average rate under a fixed limit.',
  'The school introduced a four-day week to save money, and attendance has improved since.',
  'Wash the linen at forty degrees and dry it flat to keep it from shrinking.',
  'The report warns that groundwater levels in the region have fallen for seven consecutive years.',
  'Emoji such as 🚲 and 🌧️ appear more and more often in product reviews and support tickets.',
  'I cannot log in with my security key since I changed phones, although the password is correct.',
  'The court ruled that the company had not done enough to inform customers about the price increase.',
  'Early sailors navigated by the stars and by reading the colour of the water and the flight of birds.',
  'The gym offers free introductory sessions for new members on Tuesday and Thursday evenings.',
  'The algorithm ranks documents by the cosine similarity between their embeddings and the query embedding.',
  'Fresh basil keeps longer in a glass of water on the counter than in the refrigerator.',
  'The negotiations ended without an agreement, and both sides accused the other of bad faith.',
  'The cabin has no electricity, but there is a wood stove, a gas lamp and plenty of blankets.',
  'Red blood cells carry oxygen from the lungs to the tissues and bring carbon dioxide back.',
  'This product is out of stock, but you can ask to be notified by email when it is available again.',
  'The architect designed the house around an old oak tree instead of cutting it down.',
  'Shorter meetings with a written agenda left the team more time for focused work.',
  'The recipe works with gluten-free flour if you add an extra egg to bind the dough.',
  'Traffic on the motorway is slow because of an accident near the junction with the ring road.',
  'The scholarship covers tuition, accommodation and a monthly allowance for living costs.',
  'The fossil shows that feathers appeared in dinosaurs long before the first birds could fly.',
  'Keep the receipt, because the shop will not exchange items without proof of purchase.',
  'The server returned an empty response after exactly thirty seconds, which points to a proxy timeout.',
  'Mountain villages struggle to keep their schools open as young families move to the cities.',
  'The violinist tuned her instrument twice during the concert because the hall was unusually humid.',
  'A lighthouse keeper once lived on the rock year round, but the light has been automatic since 1985.',
  'Sign the form, scan it and upload it through the portal; paper copies are no longer accepted.',
  'The study followed ten thousand adults for twenty years and found that walking daily lowered blood pressure.',
  'The cargo ship was delayed by a storm in the Bay of Biscay and reached the port two days late.',
  'My order arrived with a cracked screen, and I have attached photos of the box and the device.',
  'The theatre company performs in a different village hall every weekend throughout the summer.',
  'Rivers carry sediment from the mountains to the sea, building deltas over thousands of years.',
  'The password must contain at least twelve characters and may not include your user name.',
  'She translated technical manuals for twenty years before publishing her first collection of short stories.',
  'The heating bill doubled this winter, even though we kept the thermostat two degrees lower.',
  'Good documentation explains why a system was built the way it was, not only how to use it.',
  'The hotel offers a shuttle to the airport every half hour between five in the morning and midnight.',
  'Lightning heats the air around it to temperatures several times hotter than the surface of the sun.',
  'Refunds are processed within five working days, but your bank may take longer to show the credit.',
  'The bakery on the corner sells out of croissants by nine, so regulars come early.',
  'A sudden spike in error rates after the deploy suggested that the new configuration was to blame.',
  'The island has no cars; residents get around by bicycle, on foot or by small electric carts.',
];

/** Joins `count` sentences starting at `start` (wrapping) into one paragraph. */
function paragraph(start: number, count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i += 1) {
    parts.push(SENTENCES[(start + i) % SENTENCES.length] as string);
  }
  return parts.join(' ');
}

/**
 * Paragraphs of 4 to 10 sentences (about 80 to 300 tokens), built from the sentences with a
 * fixed stride so that consecutive paragraphs share little text.
 */
function buildParagraphs(count: number): string[] {
  const paragraphs: string[] = [];
  for (let i = 0; i < count; i += 1) {
    paragraphs.push(paragraph((i * 7) % SENTENCES.length, 4 + (i % 7)));
  }
  return paragraphs;
}

/**
 * Interleaves queries, sentences and paragraphs in a fixed pattern (query, sentence, sentence,
 * paragraph, ...), so that any window of consecutive texts, and so any request with several
 * inputs, holds a realistic mix of lengths.
 */
function interleave(queries: readonly string[], sentences: readonly string[], paragraphs: readonly string[]): string[] {
  const out: string[] = [];
  let q = 0;
  let s = 0;
  let p = 0;
  while (q < queries.length || s < sentences.length || p < paragraphs.length) {
    if (q < queries.length) out.push(queries[q++] as string);
    if (s < sentences.length) out.push(sentences[s++] as string);
    if (s < sentences.length) out.push(sentences[s++] as string);
    if (p < paragraphs.length) out.push(paragraphs[p++] as string);
  }
  return out;
}

/** The built-in corpus: a few hundred texts of mixed length, always in the same order. */
export const BUILT_IN_CORPUS: readonly string[] = Object.freeze(interleave(QUERIES, SENTENCES, buildParagraphs(70)));
