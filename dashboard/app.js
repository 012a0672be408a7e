// The xray dashboard: routes to the views. Served by xrayd next to its query
// API; no build step, no third-party code.
import { route, start } from './js/router.js';
import { renderList } from './js/views/list.js';
import { renderExecution } from './js/views/execution.js';
import { renderCompare } from './js/views/compare.js';
import { renderAnalytics } from './js/views/analytics.js';
import { renderInsights } from './js/views/insights.js';

route([], renderList, 'list', 'Executions');
route(['execution', ':app', ':id'], renderExecution, 'list', 'Execution');
route(['compare', '*'], renderCompare, 'compare', 'Compare');
route(['analytics'], renderAnalytics, 'analytics', 'Analytics');
route(['insights'], renderInsights, 'insights', 'Insights');

start(document.getElementById('main'));
