export * from './auth';
export * from './push';
