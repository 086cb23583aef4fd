// For AutoRouter documentation refer to https://itty.dev/itty-router/routers/autorouter
import { AutoRouter, IRequest } from 'itty-router';

let router = AutoRouter();

// The first route that matches answers; a route that returns nothing is middleware;
// an unmatched route answers 404.
router
    .get('/', () => new Response('hello universe'))
    .get('/hello/:name', ({ name }: IRequest) => `Hello, ${name}!`);

// @ts-ignore: the fetch event of the component's HTTP handler
addEventListener('fetch', async (event: FetchEvent) => {
    event.respondWith(router.fetch(event.request));
});
