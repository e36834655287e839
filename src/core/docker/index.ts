/** The Docker engine: address, API version negotiation, GPU capability, CDI specs and error explanations. */
export * from './cdi';
export * from './engine';
export * from './errors';
export * from './host';
export * from './info';
