// Bundles src/ into build/bundle.js with the Spin SDK's esbuild plugin; `npm run build` then
// turns the bundle into a component with j2w (ComponentizeJS).
import { build } from 'esbuild';
import { SpinEsbuildPlugin } from '@spinframework/build-tools/plugins/esbuild/index.js';

const spinPlugin = await SpinEsbuildPlugin();

await build({
    entryPoints: ['./src/index.ts'],
    outfile: './build/bundle.js',
    bundle: true,
    format: 'esm',
    platform: 'node',
    plugins: [spinPlugin],
    logLevel: 'error',
    loader: { '.ts': 'ts' },
    resolveExtensions: ['.ts', '.js'],
});
