// For AutoRouter documentation refer to https://itty.dev/itty-router/routers/autorouter
import { AutoRouter } from 'itty-router';

let router = AutoRouter();

// The first route that matches answers; a route that returns nothing is middleware;
// an unmatched route answers 404.
router
    .get('/', () => new Response('hello universe'))
    .get('/hello/:name', ({ name }) => `Hello, ${name}!`);

addEventListener('fetch', async (event) => {
    event.respondWith(router.fetch(event.request));
});
