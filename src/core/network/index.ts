/** The host's network settings (CA certificates, package index) for builds, runs and the doctor. */
export {
  type HostPaths,
  type IndexConfig,
  pipConfigFiles,
  readIndexConfig,
  type Setting,
  uvConfigFiles,
} from './config';
export { type Certificate, isPublicRoot, pemCertificates } from './pem';
export {
  CONTAINER_CA_FILE,
  CONTAINER_CA_VARIABLES,
  hostRunNetwork,
  type RunNetwork,
  runNetworkFor,
  writeRunBundle,
} from './run';
export {
  CA_BUILD_ARG_MAX,
  CA_VARIABLES,
  defaultHostFiles,
  type HostFiles,
  hostNetworkDisabled,
  type HostNetworkSettings,
  hostNetworkSettings,
  type SettingsOptions,
} from './settings';
