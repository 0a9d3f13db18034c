import { App } from 'aws-cdk-lib';
import { addKallistiStack } from '../lib/kallisti-app.js';

const app = new App();
addKallistiStack(app);
app.synth();
