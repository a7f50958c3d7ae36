/**
 * The engine side of troupe: what code running on an engine may call.
 *
 * @module
 */

export { engineId, publishData } from "../actors/engine_context.ts";
