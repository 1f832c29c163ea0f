export {
  createBatchTask, describeBatchTask, listBatchTasks, stopBatchTask, type BatchTaskView,
} from "./batch-tasks.js";
