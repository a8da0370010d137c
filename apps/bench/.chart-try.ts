import { readFileSync } from 'node:fs';
import { writeCharts } from './src/charts/report-charts.ts';
const report = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
for (const c of await writeCharts(report, process.argv[3]!)) console.log(c.file);
