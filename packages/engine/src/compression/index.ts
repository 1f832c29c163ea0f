export {
  QUANT_WEIGHTS, createCompTask, describeCompTask, listCompTasks, cancelCompTask, deleteCompTask,
  type QuantWeight, type CompRunSpec, type CompResult, type CompTaskView, type CreateCompTaskInput,
} from "./comp-tasks.js";
export { compOutputKey, settleCompression } from "./settle.js";
